# Beckon's pages for candidates: the invitation link's page, a dead link's page, a job's public
# registration page, and the unsubscribe page.

# Every page's title ends with the product's name: "{ $page } · Beckon".
page-title = { $page } · Beckon

## A link that does not work (mistyped, replaced, revoked or expired): the same page for each

link-unavailable-title = Link indisponível
link-unavailable-heading = Este link não está disponível
link-unavailable-reasons = Ele pode ter sido digitado incorretamente, substituído por um link mais recente ou não estar mais ativo.
link-unavailable-contact = Se você estava esperando um convite, entre em contato com a pessoa que o enviou.
# The form on that page, to ask for a new link.
renewal-heading = Seu link expirou?
renewal-explain = Informe o e-mail para o qual seu convite foi enviado. Se for o mesmo que temos, enviaremos um novo link por e-mail ou pediremos à equipe que convidou você que envie um.
renewal-submit = Enviar um novo link
renewal-sent = Se { $email } for o endereço para o qual seu convite foi enviado, um novo link já está a caminho, ou pedimos à equipe que convidou você que envie um.
renewal-sent-help = Isso pode levar alguns minutos; confira também sua caixa de spam.

## Form fields and their errors

email-label = Endereço de e-mail
name-label = Seu nome
email-missing = Por favor, informe seu endereço de e-mail.
email-invalid = Por favor, informe um endereço de e-mail válido, como ada@example.com.
name-missing = Por favor, informe seu nome.
name-invalid = Por favor, informe seu nome em uma única linha, com no máximo 200 caracteres.

## The invitation's page

invite-hello = Olá, { $name },
invite-submitted = Seu trabalho foi enviado. Obrigado! Não há mais nada a fazer aqui.
invite-locked = Esta avaliação ainda não foi liberada.
invite-locked-next = A equipe de recrutamento vai liberá-la; quando isso acontecer, abra este link novamente.
invite-time-limit = { $minutes ->
        [one] Você terá { $minutes } minuto depois de começar.
       *[other] Você terá { $minutes } minutos depois de começar.
    }
invite-works-until = Este link é válido até { $expires }.
invite-start = Começar
invite-continue = Continuar

## A job's public registration page

registration-explain = Inscreva-se com seu nome e e-mail, e enviaremos por e-mail seu link pessoal para você começar.
registration-submit = Inscrever-se
check-email-title = Confira seu e-mail
registration-sent = Estamos enviando seu link pessoal para { $position } ao endereço { $email }.
registration-sent-help = Isso pode levar alguns minutos; se não chegar, confira sua caixa de spam, ou verifique se o endereço está correto e inscreva-se novamente.
registration-closed-title = Inscrições encerradas
registration-closed = Esta vaga não está mais aceitando inscrições.
registration-closed-help = Se você já se inscreveu, o link que enviamos por e-mail continua funcionando.

## Too many requests in a short time

wait-title = Aguarde um momento
retry-in-seconds = { $seconds ->
        [one] Tente novamente em { $seconds } segundo
       *[other] Tente novamente em { $seconds } segundos
    }
retry-in-minutes = { $minutes ->
        [one] Tente novamente em { $minutes } minuto
       *[other] Tente novamente em { $minutes } minutos
    }
retry-later = Tente novamente mais tarde
too-many-registrations = Recebemos muitas inscrições em pouco tempo, por isso vamos pausá-las por um momento.
too-many-renewals = Recebemos muitos pedidos de novo link em pouco tempo, por isso vamos pausá-los por um momento.
already-asked = Se você já pediu, seu link está a caminho: confira seu e-mail (e sua caixa de spam).
back = Voltar

## The unsubscribe page of a mass email

unsubscribe-title = Cancelar o recebimento de e-mails
unsubscribe-heading = Parar de receber e-mails de { $organization }?
unsubscribe-explain = Você não receberá mais e-mails de { $organization } no endereço para o qual este link foi enviado: nem convites, nem lembretes, nem novos links.
unsubscribe-submit = Parar de receber e-mails
unsubscribed-title = Recebimento cancelado
unsubscribed-heading = Inscrição cancelada
unsubscribed-done = { $organization } não enviará mais e-mails para este endereço.
unsubscribed-scope = Isso vale apenas para os e-mails de { $organization }.

## Something failed on our side

error-title = Algo deu errado
error-retry = Tente novamente em instantes.
