# Beckon's emails: to candidates (invitations, reminders, reschedules, cancellations) and to the
# hiring team (notices). Variables are filled in by the email templates; times arrive already
# written in the reader's language and time zone.

## Pieces every candidate email shares

# The opening line, with the candidate's first name.
greeting = Bonjour { $name },
# The opening line when the name is not known.
greeting-anonymous = Bonjour,
# Who invites: a person at an organization.
sender-person-at-organization = { $person } ({ $organization })
sender-person = { $person }
sender-team-at-organization = L'équipe de recrutement de { $organization }
sender-team = L'équipe de recrutement
# The button in the HTML email.
open-invitation = Ouvrir votre invitation
start-here = Pour commencer : { $link }
join-here = Pour rejoindre l'entretien : { $link }
paste-link = Ou collez ce lien dans votre navigateur : { $link }
personal-link = Ce lien vous est personnel : merci de ne pas le partager.
link-works-until = Il est valable jusqu'au { $expires }.
# A live interview's time and length; the calendar invitation is attached to the email.
interview-when = Quand : { $when }, { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    } (l'invitation pour votre agenda est jointe).
# The footer of mail sent to many candidates at once.
unsubscribe-line = Ne plus recevoir d'e-mails de notre part : { $url }
unsubscribe-link = Ne plus recevoir d'e-mails de notre part

## The invitation

invite-subject = Votre invitation : { $position }
invite-intro = { $sender } vous a envoyé une invitation pour { $position }.

## The invitation, sent again

resend-subject = Votre invitation (nouvel envoi) : { $position }
resend-intro = Voici à nouveau votre invitation pour { $position }.

## A reminder to a candidate who has not started

reminder-subject = Rappel : { $position } vous attend
reminder-intro = Petit rappel : vous n'avez pas encore commencé { $position }.

## The link for someone who registered on a job's public page

registration-subject = Votre lien pour { $position }
registration-intro = Merci pour votre inscription à { $position }.
registration-intro-at = Merci pour votre inscription à { $position } chez { $organization }.

## A live interview that moved

rescheduled-subject = Nouvel horaire : { $position }
rescheduled-intro = Votre entretien pour { $position } a été déplacé au { $when } ({ $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }). L'invitation d'agenda jointe remplace celle que vous avez déjà.

## A live interview that was cancelled

cancelled-subject = Annulé : { $position }
cancelled-intro = Votre entretien pour { $position } est annulé et votre lien ne fonctionne plus. L'annulation jointe le retire de votre agenda.
cancelled-intro-at = Votre entretien pour { $position } du { $when } est annulé et votre lien ne fonctionne plus. L'annulation jointe le retire de votre agenda.

## The calendar event in the candidate's calendar

calendar-summary = Entretien : { $position }
calendar-join = Pour rejoindre l'entretien : { $link }

## Notices to the hiring team

# Who, when the candidate's name is not known.
someone = Une personne candidate
team-started-subject = { $candidate } a commencé { $position }
team-started = { $candidate } vient de commencer { $position }.
team-started-at = { $candidate } vient de commencer { $position } ({ $time }).
team-submitted-subject = { $candidate } a soumis { $position }
team-submitted = { $candidate } a soumis { $position } : vous pouvez maintenant l'évaluer.
team-submitted-at = { $candidate } a soumis { $position } ({ $time }) : vous pouvez maintenant l'évaluer.
inviter-copy-subject = Copie : votre invitation pour { $position } envoyée à { $candidate }
inviter-copy-intro = Ceci est une copie de l'invitation pour { $position } que vous avez envoyée à { $candidate }.
renewal-requested-subject = { $candidate } demande un nouveau lien pour { $position }
renewal-requested = { $candidate } a demandé un nouveau lien pour { $position }, car le précédent a expiré.
renewal-requested-send = Pour l'envoyer : { $command }
renewal-requested-leave = Pour ne pas l'envoyer, il suffit de ne rien faire : la personne ne sera pas informée de votre choix.

## To an organization's admins: a webhook endpoint was turned off

webhook-disabled-subject = Point de terminaison webhook désactivé
webhook-disabled-subject-at = Point de terminaison webhook désactivé pour { $organization }
webhook-disabled = Beckon a désactivé le point de terminaison webhook { $url } : { $reason }.
webhook-disabled-described = Beckon a désactivé le point de terminaison webhook { $url } ({ $description }) : { $reason }.
webhook-disabled-gone = le serveur destinataire a répondu 410 Gone
webhook-disabled-failing = tous les envois ont échoué pendant trop longtemps
webhook-disabled-next = Ses événements sont conservés. Corrigez le serveur destinataire, puis réactivez le point de terminaison ({ $enable }) : il recevra les événements en attente, et les messages en échec pourront être renvoyés ({ $replay }).
