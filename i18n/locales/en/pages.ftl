# Beckon's pages for candidates: the invitation link's page, a dead link's page, a job's public
# registration page, and the unsubscribe page.

# Every page's title ends with the product's name: "{ $page } · Beckon".
page-title = { $page } · Beckon

## A link that does not work (mistyped, replaced, revoked or expired): the same page for each

link-unavailable-title = Link not available
link-unavailable-heading = This link is not available
link-unavailable-reasons = It may have been mistyped, replaced by a newer link, or it is no longer active.
link-unavailable-contact = If you were expecting an invitation, please contact the person who sent it to you.
# The form on that page, to ask for a new link.
renewal-heading = Did your link expire?
renewal-explain = Enter the email address your invitation was sent to. If it is the one we have, we will email you a new link, or ask the team that invited you to send one.
renewal-submit = Send me a new link
renewal-sent = If { $email } is the address your invitation went to, a new link is on its way to it, or the team that invited you has been asked to send one.
renewal-sent-help = It may take a few minutes; look in your spam folder too.

## Form fields and their errors

email-label = Email address
name-label = Your name
email-missing = Please enter your email address.
email-invalid = Please enter an email address such as ada@example.com.
name-missing = Please enter your name.
name-invalid = Please enter your name on one line, in at most 200 characters.

## The invitation's page

invite-hello = Hello { $name },
invite-submitted = Your work has been submitted. Thank you! There is nothing more to do here.
invite-locked = This assessment is not yet unlocked.
invite-locked-next = The hiring team will unlock it; open this link again then.
invite-time-limit = { $minutes ->
        [one] You will have { $minutes } minute once you start.
       *[other] You will have { $minutes } minutes once you start.
    }
invite-works-until = This link works until { $expires }.
invite-start = Start
invite-continue = Continue

## A job's public registration page

registration-explain = Register with your name and email address, and we will email you your personal link to get started.
registration-submit = Register
check-email-title = Check your email
registration-sent = Your personal link for { $position } is on its way to { $email }.
registration-sent-help = It may take a few minutes; if it does not arrive, look in your spam folder, or check that the address is right and register again.
registration-closed-title = Registrations closed
registration-closed = This position is no longer accepting registrations.
registration-closed-help = If you already registered, the link we emailed you still works.

## Too many requests in a short time

wait-title = Please wait
retry-in-seconds = { $seconds ->
        [one] Please try again in { $seconds } second
       *[other] Please try again in { $seconds } seconds
    }
retry-in-minutes = { $minutes ->
        [one] Please try again in { $minutes } minute
       *[other] Please try again in { $minutes } minutes
    }
retry-later = Please try again later
too-many-registrations = There have been a lot of registrations in a short time, so we are pausing them for a moment.
too-many-renewals = There have been a lot of requests for a new link in a short time, so we are pausing them for a moment.
already-asked = If you already asked, your link is on its way: check your email (and your spam folder).
back = Back

## The unsubscribe page of a mass email

unsubscribe-title = Unsubscribe
unsubscribe-heading = Stop emails from { $organization }?
unsubscribe-explain = You will get no more email from { $organization } at the address this link was sent to: no invitations, reminders or new links.
unsubscribe-submit = Unsubscribe
unsubscribed-title = Unsubscribed
unsubscribed-heading = You are unsubscribed
unsubscribed-done = { $organization } will send no more email to this address.
unsubscribed-scope = This stops email from { $organization } only.

## Something failed on our side

error-title = Something went wrong
error-retry = Please try again in a moment.
