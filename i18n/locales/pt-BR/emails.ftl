# Beckon's emails: to candidates (invitations, reminders, reschedules, cancellations) and to the
# hiring team (notices). Variables are filled in by the email templates; times arrive already
# written in the reader's language and time zone.

## Pieces every candidate email shares

# The opening line, with the candidate's first name.
greeting = Olá, { $name },
# The opening line when the name is not known.
greeting-anonymous = Olá,
# Who invites: a person at an organization.
sender-person-at-organization = { $person }, de { $organization }
sender-person = { $person }
sender-team-at-organization = A equipe de recrutamento de { $organization }
sender-team = A equipe de recrutamento
# The button in the HTML email.
open-invitation = Abrir seu convite
start-here = Comece aqui: { $link }
join-here = Acesse aqui: { $link }
paste-link = Ou cole este link no seu navegador: { $link }
personal-link = Este link é pessoal: por favor, não o compartilhe.
link-works-until = Ele é válido até { $expires }.
# A live interview's time and length; the calendar invitation is attached to the email.
interview-when = Quando: { $when }, { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    } (o convite para sua agenda está em anexo).
# The footer of mail sent to many candidates at once.
unsubscribe-line = Para não receber mais nossos e-mails: { $url }
unsubscribe-link = Não receber mais nossos e-mails

## The invitation

invite-subject = Seu convite: { $position }
invite-intro = { $sender } convidou você para participar de { $position }.

## The invitation, sent again

resend-subject = Seu convite (reenviado): { $position }
resend-intro = Aqui está novamente seu convite para { $position }.

## A reminder to a candidate who has not started

reminder-subject = Lembrete: { $position } está esperando por você
reminder-intro = Um lembrete amigável: você ainda não começou { $position }.

## The link for someone who registered on a job's public page

registration-subject = Seu link para { $position }
registration-intro = Obrigado por se inscrever em { $position }.
registration-intro-at = Obrigado por se inscrever em { $position }, de { $organization }.

## A live interview that moved

rescheduled-subject = Novo horário: { $position }
rescheduled-intro = Sua entrevista para { $position } tem um novo horário: { $when } ({ $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }). O convite de agenda em anexo atualiza o que você já tem.

## A live interview that was cancelled

cancelled-subject = Entrevista cancelada: { $position }
cancelled-intro = Sua entrevista para { $position } foi cancelada, e seu link não funciona mais. O cancelamento em anexo remove o evento da sua agenda.
cancelled-intro-at = Sua entrevista para { $position }, marcada para { $when }, foi cancelada, e seu link não funciona mais. O cancelamento em anexo remove o evento da sua agenda.

## The calendar event in the candidate's calendar

calendar-summary = Entrevista: { $position }
calendar-join = Acesse aqui: { $link }

## Notices to the hiring team

# Who, when the candidate's name is not known.
someone = Uma pessoa candidata
team-started-subject = { $candidate } começou { $position }
team-started = { $candidate } acabou de começar { $position }.
team-started-at = { $candidate } acabou de começar { $position } ({ $time }).
team-submitted-subject = { $candidate } enviou { $position }
team-submitted = { $candidate } enviou { $position }: já está disponível para análise.
team-submitted-at = { $candidate } enviou { $position } ({ $time }): já está disponível para análise.
inviter-copy-subject = Cópia: você convidou { $candidate } para { $position }
inviter-copy-intro = Esta é uma cópia do convite que você enviou a { $candidate } para { $position }.
renewal-requested-subject = { $candidate } pede um novo link para { $position }
renewal-requested = { $candidate } pediu um novo link para { $position }, porque o anterior expirou.
renewal-requested-send = Para enviá-lo: { $command }
renewal-requested-leave = Para não enviar, não faça nada: a pessoa não é avisada em nenhum dos casos.

## To an organization's admins: a webhook endpoint was turned off

webhook-disabled-subject = Endpoint de webhook desativado
webhook-disabled-subject-at = Endpoint de webhook desativado em { $organization }
webhook-disabled = O Beckon desativou o endpoint de webhook { $url }: { $reason }.
webhook-disabled-described = O Beckon desativou o endpoint de webhook { $url } ({ $description }): { $reason }.
webhook-disabled-gone = o receptor respondeu 410 Gone
webhook-disabled-failing = todas as entregas falharam por tempo demais
webhook-disabled-next = Os eventos dele foram mantidos. Corrija o receptor e reative o endpoint ({ $enable }): ele receberá o que ficou pendente, e as mensagens com falha podem ser reenviadas ({ $replay }).
