# Beckon's emails: to candidates (invitations, reminders, reschedules, cancellations) and to the
# hiring team (notices). Variables are filled in by the email templates; times arrive already
# written in the reader's language and time zone.

## Pieces every candidate email shares

# The opening line, with the candidate's first name.
greeting = Hola, { $name }:
# The opening line when the name is not known.
greeting-anonymous = Hola:
# Who invites: a person at an organization.
sender-person-at-organization = { $person }, de { $organization }
sender-person = { $person }
sender-team-at-organization = El equipo de selección de { $organization }
sender-team = El equipo de selección
# The button in the HTML email.
open-invitation = Abrir su invitación
start-here = Comience aquí: { $link }
join-here = Únase aquí: { $link }
paste-link = O pegue este enlace en su navegador: { $link }
personal-link = Este enlace es personal: por favor, no lo comparta.
link-works-until = Es válido hasta el { $expires }.
# A live interview's time and length; the calendar invitation is attached to the email.
interview-when = Cuándo: { $when }, { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    } (adjuntamos la invitación para su calendario).
# The footer of mail sent to many candidates at once.
unsubscribe-line = Para no recibir más correos nuestros: { $url }
unsubscribe-link = No recibir más correos nuestros

## The invitation

invite-subject = Su invitación: { $position }
invite-intro = { $sender } le ha invitado a participar en { $position }.

## The invitation, sent again

resend-subject = Su invitación (reenviada): { $position }
resend-intro = Le reenviamos su invitación para { $position }.

## A reminder to a candidate who has not started

reminder-subject = Recordatorio: { $position } le espera
reminder-intro = Un recordatorio amable: aún no ha comenzado { $position }.

## The link for someone who registered on a job's public page

registration-subject = Su enlace para { $position }
registration-intro = Gracias por inscribirse en { $position }.
registration-intro-at = Gracias por inscribirse en { $position } de { $organization }.

## A live interview that moved

rescheduled-subject = Nuevo horario: { $position }
rescheduled-intro = Su entrevista para { $position } tiene un nuevo horario: { $when } ({ $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }). La invitación de calendario adjunta sustituye a la que ya tiene.

## A live interview that was cancelled

cancelled-subject = Entrevista cancelada: { $position }
cancelled-intro = Su entrevista para { $position } ha sido cancelada y su enlace ya no funciona. La cancelación adjunta la eliminará de su calendario.
cancelled-intro-at = Su entrevista para { $position }, programada para el { $when }, ha sido cancelada y su enlace ya no funciona. La cancelación adjunta la eliminará de su calendario.

## The calendar event in the candidate's calendar

calendar-summary = Entrevista: { $position }
calendar-join = Únase aquí: { $link }

## Notices to the hiring team

# Who, when the candidate's name is not known.
someone = Una persona candidata
team-started-subject = { $candidate } ha comenzado { $position }
team-started = { $candidate } acaba de comenzar { $position }.
team-started-at = { $candidate } acaba de comenzar { $position } ({ $time }).
team-submitted-subject = { $candidate } ha enviado { $position }
team-submitted = { $candidate } ha enviado { $position }: ya está disponible para revisión.
team-submitted-at = { $candidate } ha enviado { $position } ({ $time }): ya está disponible para revisión.
inviter-copy-subject = Copia: ha invitado a { $candidate } a { $position }
inviter-copy-intro = Esta es una copia de la invitación que envió a { $candidate } para { $position }.
renewal-requested-subject = { $candidate } solicita un nuevo enlace para { $position }
renewal-requested = { $candidate } ha solicitado un nuevo enlace para { $position }, porque el anterior ha caducado.
renewal-requested-send = Para enviarlo: { $command }
renewal-requested-leave = Para no enviarlo, no haga nada: la persona candidata no recibe ningún aviso en ningún caso.

## To an organization's admins: a webhook endpoint was turned off

webhook-disabled-subject = Destino del webhook desactivado
webhook-disabled-subject-at = Destino del webhook desactivado en { $organization }
webhook-disabled = Beckon ha desactivado el destino del webhook { $url }: { $reason }.
webhook-disabled-described = Beckon ha desactivado el destino del webhook { $url } ({ $description }): { $reason }.
webhook-disabled-gone = el receptor respondió 410 Gone
webhook-disabled-failing = todas las entregas fallaron durante demasiado tiempo
webhook-disabled-next = Sus eventos se conservan. Corrija el receptor y vuelva a activar el destino ({ $enable }): recibirá lo que quedó pendiente, y los mensajes fallidos se pueden volver a enviar ({ $replay }).
