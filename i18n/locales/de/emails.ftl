# Beckon's emails: to candidates (invitations, reminders, reschedules, cancellations) and to the
# hiring team (notices). Variables are filled in by the email templates; times arrive already
# written in the reader's language and time zone.

## Pieces every candidate email shares

# The opening line, with the candidate's first name.
greeting = Hallo { $name },
# The opening line when the name is not known.
greeting-anonymous = Guten Tag,
# Who invites: a person at an organization.
sender-person-at-organization = { $person } von { $organization }
sender-person = { $person }
sender-team-at-organization = Das Recruiting-Team von { $organization }
sender-team = Das Recruiting-Team
# The button in the HTML email.
open-invitation = Einladung öffnen
start-here = Hier geht es los: { $link }
join-here = Hier teilnehmen: { $link }
paste-link = Oder kopieren Sie diesen Link in die Adresszeile Ihres Webbrowsers: { $link }
personal-link = Dieser Link ist persönlich: Bitte geben Sie ihn nicht weiter.
link-works-until = Er ist gültig bis { $expires }.
# A live interview's time and length; the calendar invitation is attached to the email.
interview-when = Wann: { $when }, { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } (die Einladung für Ihren Kalender ist angehängt).
# The footer of mail sent to many candidates at once.
unsubscribe-line = Keine weiteren E-Mails von uns erhalten: { $url }
unsubscribe-link = Keine weiteren E-Mails von uns erhalten

## The invitation

invite-subject = Ihre Einladung: { $position }
invite-intro = { $sender } hat Sie zu { $position } eingeladen.

## The invitation, sent again

resend-subject = Ihre Einladung (erneut gesendet): { $position }
resend-intro = Hier ist noch einmal Ihre Einladung zu { $position }.

## A reminder to a candidate who has not started

reminder-subject = Erinnerung: { $position } wartet auf Sie
reminder-intro = Eine freundliche Erinnerung: Sie haben { $position } noch nicht begonnen.

## The link for someone who registered on a job's public page

registration-subject = Ihr Link für { $position }
registration-intro = Vielen Dank für Ihre Anmeldung zu { $position }.
registration-intro-at = Vielen Dank für Ihre Anmeldung zu { $position } bei { $organization }.

## A live interview that moved

rescheduled-subject = Neuer Termin: { $position }
rescheduled-intro = Ihr Gespräch für { $position } wurde auf { $when } verschoben ({ $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    }). Die angehängte Kalendereinladung aktualisiert Ihren bestehenden Termin.

## A live interview that was cancelled

cancelled-subject = Abgesagt: { $position }
cancelled-intro = Ihr Gespräch für { $position } wurde abgesagt, und Ihr Link ist nicht mehr gültig. Mit der angehängten Kalenderabsage wird der Termin aus Ihrem Kalender entfernt.
cancelled-intro-at = Ihr Gespräch für { $position } am { $when } wurde abgesagt, und Ihr Link ist nicht mehr gültig. Mit der angehängten Kalenderabsage wird der Termin aus Ihrem Kalender entfernt.

## The calendar event in the candidate's calendar

calendar-summary = Gespräch: { $position }
calendar-join = Hier teilnehmen: { $link }

## Notices to the hiring team

# Who, when the candidate's name is not known.
someone = Eine bewerbende Person
team-started-subject = { $candidate } hat { $position } begonnen
team-started = { $candidate } hat gerade { $position } begonnen.
team-started-at = { $candidate } hat gerade { $position } begonnen ({ $time }).
team-submitted-subject = { $candidate } hat { $position } eingereicht
team-submitted = { $candidate } hat { $position } eingereicht – bereit zur Prüfung.
team-submitted-at = { $candidate } hat { $position } eingereicht ({ $time }) – bereit zur Prüfung.
inviter-copy-subject = Kopie: Ihre Einladung an { $candidate } zu { $position }
inviter-copy-intro = Dies ist eine Kopie Ihrer Einladung an { $candidate } zu { $position }.
renewal-requested-subject = { $candidate } bittet um einen neuen Link für { $position }
renewal-requested = { $candidate } hat um einen neuen Link für { $position } gebeten, da der bisherige abgelaufen ist.
renewal-requested-send = Zum Senden: { $command }
renewal-requested-leave = Wenn Sie keinen neuen Link senden möchten, müssen Sie nichts tun: Die Person wird über Ihre Entscheidung nicht informiert.

## To an organization's admins: a webhook endpoint was turned off

webhook-disabled-subject = Webhook-Endpunkt deaktiviert
webhook-disabled-subject-at = Webhook-Endpunkt bei { $organization } deaktiviert
webhook-disabled = Beckon hat den Webhook-Endpunkt { $url } deaktiviert: { $reason }.
webhook-disabled-described = Beckon hat den Webhook-Endpunkt { $url } ({ $description }) deaktiviert: { $reason }.
webhook-disabled-gone = der Empfänger hat mit 410 Gone geantwortet
webhook-disabled-failing = alle Zustellungen sind zu lange fehlgeschlagen
webhook-disabled-next = Seine Ereignisse bleiben erhalten. Beheben Sie das Problem beim Empfänger und aktivieren Sie den Endpunkt dann wieder ({ $enable }): Er erhält alles, was in der Zwischenzeit angefallen ist, und fehlgeschlagene Nachrichten können erneut gesendet werden ({ $replay }).
