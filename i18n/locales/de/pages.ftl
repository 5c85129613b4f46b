# Beckon's pages for candidates: the invitation link's page, a dead link's page, a job's public
# registration page, and the unsubscribe page.

# Every page's title ends with the product's name: "{ $page } · Beckon".
page-title = { $page } · Beckon

## A link that does not work (mistyped, replaced, revoked or expired): the same page for each

link-unavailable-title = Link nicht verfügbar
link-unavailable-heading = Dieser Link ist nicht verfügbar
link-unavailable-reasons = Möglicherweise wurde er falsch eingegeben oder durch einen neueren Link ersetzt, oder er ist nicht mehr aktiv.
link-unavailable-contact = Falls Sie eine Einladung erwartet haben, wenden Sie sich bitte an die Person, die sie Ihnen geschickt hat.
# The form on that page, to ask for a new link.
renewal-heading = Ist Ihr Link abgelaufen?
renewal-explain = Geben Sie die E-Mail-Adresse ein, an die Ihre Einladung gesendet wurde. Stimmt sie mit der bei uns hinterlegten Adresse überein, senden wir Ihnen per E-Mail einen neuen Link oder bitten das Team, das Sie eingeladen hat, Ihnen einen zu schicken.
renewal-submit = Neuen Link anfordern
renewal-sent = Falls Ihre Einladung an { $email } gesendet wurde, ist ein neuer Link an diese Adresse unterwegs, oder das Team, das Sie eingeladen hat, wurde gebeten, Ihnen einen zu schicken.
renewal-sent-help = Das kann einige Minuten dauern. Sehen Sie bitte auch in Ihrem Spam-Ordner nach.

## Form fields and their errors

email-label = E-Mail-Adresse
name-label = Ihr Name
email-missing = Bitte geben Sie Ihre E-Mail-Adresse ein.
email-invalid = Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel ada@example.com.
name-missing = Bitte geben Sie Ihren Namen ein.
name-invalid = Bitte geben Sie Ihren Namen in einer einzigen Zeile und mit höchstens 200 Zeichen ein.

## The invitation's page

invite-hello = Hallo { $name },
invite-submitted = Ihre Arbeit wurde eingereicht. Vielen Dank! Hier ist nichts weiter zu tun.
invite-locked = Diese Aufgabe ist noch nicht freigeschaltet.
invite-locked-next = Das Recruiting-Team wird sie freischalten. Öffnen Sie diesen Link dann einfach erneut.
invite-time-limit = { $minutes ->
        [one] Sobald Sie beginnen, haben Sie { $minutes } Minute Zeit.
       *[other] Sobald Sie beginnen, haben Sie { $minutes } Minuten Zeit.
    }
invite-works-until = Dieser Link ist gültig bis { $expires }.
invite-start = Beginnen
invite-continue = Weiter

## A job's public registration page

registration-explain = Melden Sie sich mit Ihrem Namen und Ihrer E-Mail-Adresse an. Wir senden Ihnen dann Ihren persönlichen Link per E-Mail, damit Sie loslegen können.
registration-submit = Anmelden
check-email-title = Prüfen Sie Ihr Postfach
registration-sent = Ihr persönlicher Link für { $position } ist unterwegs an { $email }.
registration-sent-help = Das kann einige Minuten dauern. Falls er nicht ankommt, sehen Sie in Ihrem Spam-Ordner nach oder prüfen Sie, ob die Adresse stimmt, und melden Sie sich erneut an.
registration-closed-title = Anmeldung geschlossen
registration-closed = Für diese Stelle sind keine Anmeldungen mehr möglich.
registration-closed-help = Falls Sie sich bereits angemeldet haben, ist der Link aus unserer E-Mail weiterhin gültig.

## Too many requests in a short time

wait-title = Einen Moment bitte
retry-in-seconds = { $seconds ->
        [one] Bitte versuchen Sie es in { $seconds } Sekunde erneut
       *[other] Bitte versuchen Sie es in { $seconds } Sekunden erneut
    }
retry-in-minutes = { $minutes ->
        [one] Bitte versuchen Sie es in { $minutes } Minute erneut
       *[other] Bitte versuchen Sie es in { $minutes } Minuten erneut
    }
retry-later = Bitte versuchen Sie es später erneut
too-many-registrations = In kurzer Zeit sind sehr viele Anmeldungen eingegangen, daher pausieren wir sie für einen Moment.
too-many-renewals = In kurzer Zeit wurden sehr viele neue Links angefordert, daher pausieren wir diese Anfragen für einen Moment.
already-asked = Falls Sie bereits einen neuen Link angefordert haben, ist er unterwegs: Sehen Sie in Ihrem Postfach (und Ihrem Spam-Ordner) nach.
back = Zurück

## The unsubscribe page of a mass email

unsubscribe-title = Abmelden
unsubscribe-heading = Keine E-Mails mehr von { $organization } erhalten?
unsubscribe-explain = Sie erhalten dann an die Adresse, an die dieser Link gesendet wurde, keine E-Mails mehr von { $organization }: keine Einladungen, keine Erinnerungen und keine neuen Links.
unsubscribe-submit = Abmelden
unsubscribed-title = Abgemeldet
unsubscribed-heading = Sie haben sich abgemeldet
unsubscribed-done = { $organization } sendet keine E-Mails mehr an diese Adresse.
unsubscribed-scope = Dies gilt nur für E-Mails von { $organization }.

## Something failed on our side

error-title = Etwas ist schiefgelaufen
error-retry = Bitte versuchen Sie es gleich noch einmal.
