# Beckon's pages for candidates: the invitation link's page, a dead link's page, a job's public
# registration page, and the unsubscribe page.

# Every page's title ends with the product's name: "{ $page } · Beckon".
page-title = { $page } · Beckon

## A link that does not work (mistyped, replaced, revoked or expired): the same page for each

link-unavailable-title = Lien indisponible
link-unavailable-heading = Ce lien n'est pas disponible
link-unavailable-reasons = Il a peut-être été mal saisi ou remplacé par un lien plus récent, ou il n'est plus actif.
link-unavailable-contact = Si vous attendiez une invitation, veuillez contacter la personne qui vous l'a envoyée.
# The form on that page, to ask for a new link.
renewal-heading = Votre lien a expiré ?
renewal-explain = Saisissez l'adresse e-mail à laquelle votre invitation a été envoyée. Si elle correspond à celle que nous connaissons, nous vous enverrons un nouveau lien par e-mail, ou nous demanderons à l'équipe à l'origine de votre invitation de vous en envoyer un.
renewal-submit = M'envoyer un nouveau lien
renewal-sent = Si votre invitation a été envoyée à { $email }, un nouveau lien est en route vers cette adresse, ou l'équipe à l'origine de votre invitation a reçu la demande de vous en envoyer un.
renewal-sent-help = Cela peut prendre quelques minutes. Pensez aussi à vérifier vos courriers indésirables.

## Form fields and their errors

email-label = Adresse e-mail
name-label = Votre nom
email-missing = Veuillez saisir votre adresse e-mail.
email-invalid = Veuillez saisir une adresse e-mail valide, par exemple ada@example.com.
name-missing = Veuillez saisir votre nom.
name-invalid = Veuillez saisir votre nom sur une seule ligne, en 200 caractères maximum.

## The invitation's page

invite-hello = Bonjour { $name },
invite-submitted = Votre travail a bien été envoyé. Merci ! Vous n'avez plus rien à faire ici.
invite-locked = Cette évaluation n'est pas encore accessible.
invite-locked-next = L'équipe de recrutement va la débloquer. Rouvrez simplement ce lien à ce moment-là.
invite-time-limit = { $minutes ->
        [one] Vous disposerez de { $minutes } minute dès que vous aurez commencé.
       *[other] Vous disposerez de { $minutes } minutes dès que vous aurez commencé.
    }
invite-works-until = Ce lien est valable jusqu'au { $expires }.
invite-start = Commencer
invite-continue = Continuer

## A job's public registration page

registration-explain = Inscrivez-vous avec votre nom et votre adresse e-mail : nous vous enverrons par e-mail votre lien personnel pour commencer.
registration-submit = S'inscrire
check-email-title = Consultez votre boîte de réception
registration-sent = Votre lien personnel pour { $position } est en route vers { $email }.
registration-sent-help = Cela peut prendre quelques minutes. S'il n'arrive pas, vérifiez vos courriers indésirables, ou assurez-vous que l'adresse est correcte et inscrivez-vous à nouveau.
registration-closed-title = Inscriptions closes
registration-closed = Ce poste n'accepte plus d'inscriptions.
registration-closed-help = Si votre inscription est déjà faite, le lien que nous vous avons envoyé par e-mail fonctionne toujours.

## Too many requests in a short time

wait-title = Veuillez patienter
retry-in-seconds = { $seconds ->
        [one] Veuillez réessayer dans { $seconds } seconde
       *[other] Veuillez réessayer dans { $seconds } secondes
    }
retry-in-minutes = { $minutes ->
        [one] Veuillez réessayer dans { $minutes } minute
       *[other] Veuillez réessayer dans { $minutes } minutes
    }
retry-later = Veuillez réessayer plus tard
too-many-registrations = Nous avons reçu beaucoup d'inscriptions en peu de temps, nous les suspendons donc quelques instants.
too-many-renewals = Nous avons reçu beaucoup de demandes de nouveau lien en peu de temps, nous les suspendons donc quelques instants.
already-asked = Si vous avez déjà fait la demande, votre lien est en route : consultez votre boîte de réception (et vos courriers indésirables).
back = Retour

## The unsubscribe page of a mass email

unsubscribe-title = Se désabonner
unsubscribe-heading = Ne plus recevoir d'e-mails de { $organization } ?
unsubscribe-explain = Vous ne recevrez plus aucun e-mail de { $organization } à l'adresse à laquelle ce lien a été envoyé : ni invitations, ni rappels, ni nouveaux liens.
unsubscribe-submit = Se désabonner
unsubscribed-title = Désabonnement confirmé
unsubscribed-heading = Votre désabonnement est confirmé
unsubscribed-done = { $organization } n'enverra plus d'e-mails à cette adresse.
unsubscribed-scope = Cela concerne uniquement les e-mails de { $organization }.

## Something failed on our side

error-title = Un problème est survenu
error-retry = Veuillez réessayer dans un instant.
