# Beckon's pages for candidates: the invitation link's page, a dead link's page, a job's public
# registration page, and the unsubscribe page.

# Every page's title ends with the product's name: "{ $page } · Beckon".
page-title = { $page } · Beckon

## A link that does not work (mistyped, replaced, revoked or expired): the same page for each

link-unavailable-title = Enlace no disponible
link-unavailable-heading = Este enlace no está disponible
link-unavailable-reasons = Es posible que se haya escrito mal, que se haya sustituido por un enlace más reciente o que ya no esté activo.
link-unavailable-contact = Si esperaba una invitación, póngase en contacto con la persona que se la envió.
# The form on that page, to ask for a new link.
renewal-heading = ¿Ha caducado su enlace?
renewal-explain = Escriba la dirección de correo electrónico a la que se envió su invitación. Si coincide con la que tenemos, le enviaremos un nuevo enlace por correo o pediremos al equipo que le invitó que le envíe uno.
renewal-submit = Enviarme un nuevo enlace
renewal-sent = Si { $email } es la dirección a la que se envió su invitación, ya le estamos enviando un nuevo enlace, o hemos pedido al equipo que le invitó que le envíe uno.
renewal-sent-help = Puede tardar unos minutos; revise también su carpeta de correo no deseado.

## Form fields and their errors

email-label = Correo electrónico
name-label = Su nombre
email-missing = Por favor, escriba su dirección de correo electrónico.
email-invalid = Por favor, escriba una dirección de correo electrónico válida, como ada@example.com.
name-missing = Por favor, escriba su nombre.
name-invalid = Por favor, escriba su nombre en una sola línea, con 200 caracteres como máximo.

## The invitation's page

invite-hello = Hola, { $name }:
invite-submitted = Su trabajo se ha enviado. ¡Gracias! No tiene que hacer nada más aquí.
invite-locked = Esta evaluación aún no está desbloqueada.
invite-locked-next = El equipo de selección la desbloqueará; cuando lo haga, vuelva a abrir este enlace.
invite-time-limit = { $minutes ->
        [one] Tendrá { $minutes } minuto una vez que comience.
       *[other] Tendrá { $minutes } minutos una vez que comience.
    }
invite-works-until = Este enlace es válido hasta el { $expires }.
invite-start = Comenzar
invite-continue = Continuar

## A job's public registration page

registration-explain = Inscríbase con su nombre y su dirección de correo electrónico, y le enviaremos por correo su enlace personal para comenzar.
registration-submit = Inscribirse
check-email-title = Revise su correo
registration-sent = Le estamos enviando su enlace personal para { $position } a { $email }.
registration-sent-help = Puede tardar unos minutos; si no le llega, revise su carpeta de correo no deseado, o compruebe que la dirección sea correcta y vuelva a inscribirse.
registration-closed-title = Inscripciones cerradas
registration-closed = Este puesto ya no acepta inscripciones.
registration-closed-help = Si ya se inscribió, el enlace que le enviamos por correo sigue funcionando.

## Too many requests in a short time

wait-title = Espere un momento
retry-in-seconds = { $seconds ->
        [one] Vuelva a intentarlo en { $seconds } segundo
       *[other] Vuelva a intentarlo en { $seconds } segundos
    }
retry-in-minutes = { $minutes ->
        [one] Vuelva a intentarlo en { $minutes } minuto
       *[other] Vuelva a intentarlo en { $minutes } minutos
    }
retry-later = Vuelva a intentarlo más tarde
too-many-registrations = Ha habido muchas inscripciones en poco tiempo, así que las hemos pausado por un momento.
too-many-renewals = Ha habido muchas solicitudes de nuevos enlaces en poco tiempo, así que las hemos pausado por un momento.
already-asked = Si ya lo solicitó, su enlace está en camino: revise su correo (y su carpeta de correo no deseado).
back = Volver

## The unsubscribe page of a mass email

unsubscribe-title = Cancelar suscripción
unsubscribe-heading = ¿Dejar de recibir correos de { $organization }?
unsubscribe-explain = Ya no recibirá correos de { $organization } en la dirección a la que se envió este enlace: ni invitaciones, ni recordatorios, ni nuevos enlaces.
unsubscribe-submit = Cancelar suscripción
unsubscribed-title = Suscripción cancelada
unsubscribed-heading = Se ha cancelado su suscripción
unsubscribed-done = { $organization } no enviará más correos a esta dirección.
unsubscribed-scope = Esto solo detiene los correos de { $organization }.

## Something failed on our side

error-title = Algo salió mal
error-retry = Vuelva a intentarlo en unos momentos.
