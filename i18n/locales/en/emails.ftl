# Beckon's emails: to candidates (invitations, reminders, reschedules, cancellations) and to the
# hiring team (notices). Variables are filled in by the email templates; times arrive already
# written in the reader's language and time zone.

## Pieces every candidate email shares

# The opening line, with the candidate's first name.
greeting = Hi { $name },
# The opening line when the name is not known.
greeting-anonymous = Hello,
# Who invites: a person at an organization.
sender-person-at-organization = { $person } at { $organization }
sender-person = { $person }
sender-team-at-organization = The hiring team at { $organization }
sender-team = The hiring team
# The button in the HTML email.
open-invitation = Open your invitation
start-here = Start here: { $link }
join-here = Join here: { $link }
paste-link = Or paste this link into your browser: { $link }
personal-link = This link is personal: please do not share it.
link-works-until = It works until { $expires }.
# A live interview's time and length; the calendar invitation is attached to the email.
interview-when = When: { $when }, { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    } (the invitation is attached for your calendar).
# The footer of mail sent to many candidates at once.
unsubscribe-line = No more email from us: { $url }
unsubscribe-link = No more email from us

## The invitation

invite-subject = Your invitation: { $position }
invite-intro = { $sender } invited you to { $position }.

## The invitation, sent again

resend-subject = Your invitation (sent again): { $position }
resend-intro = Here is your invitation to { $position } again.

## A reminder to a candidate who has not started

reminder-subject = Reminder: { $position } is waiting for you
reminder-intro = A friendly reminder: you have not started { $position } yet.

## The link for someone who registered on a job's public page

registration-subject = Your link for { $position }
registration-intro = Thank you for registering for { $position }.
registration-intro-at = Thank you for registering for { $position } at { $organization }.

## A live interview that moved

rescheduled-subject = New time: { $position }
rescheduled-intro = Your interview for { $position } has moved to { $when } ({ $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }). The calendar invitation attached updates the one you have.

## A live interview that was cancelled

cancelled-subject = Cancelled: { $position }
cancelled-intro = Your interview for { $position } is cancelled, and your link no longer works. The calendar cancellation attached takes it out of your calendar.
cancelled-intro-at = Your interview for { $position } on { $when } is cancelled, and your link no longer works. The calendar cancellation attached takes it out of your calendar.

## The calendar event in the candidate's calendar

calendar-summary = Interview: { $position }
calendar-join = Join here: { $link }

## Notices to the hiring team

# Who, when the candidate's name is not known.
someone = A candidate
team-started-subject = { $candidate } started { $position }
team-started = { $candidate } just started { $position }.
team-started-at = { $candidate } just started { $position } ({ $time }).
team-submitted-subject = { $candidate } submitted { $position }
team-submitted = { $candidate } submitted { $position }: it is ready for review.
team-submitted-at = { $candidate } submitted { $position } ({ $time }): it is ready for review.
inviter-copy-subject = Copy: you invited { $candidate } to { $position }
inviter-copy-intro = This is a copy of your invitation to { $candidate } for { $position }.
renewal-requested-subject = { $candidate } asks for a new link to { $position }
renewal-requested = { $candidate } asked for a new link to { $position }: theirs expired.
renewal-requested-send = To send it: { $command }
renewal-requested-leave = To leave it, do nothing: they are not told either way.

## To an organization's admins: a webhook endpoint was turned off

webhook-disabled-subject = Webhook endpoint turned off
webhook-disabled-subject-at = Webhook endpoint turned off at { $organization }
webhook-disabled = Beckon turned off the webhook endpoint { $url }: { $reason }.
webhook-disabled-described = Beckon turned off the webhook endpoint { $url } ({ $description }): { $reason }.
webhook-disabled-gone = the receiver answered 410 Gone
webhook-disabled-failing = every delivery failed for too long
webhook-disabled-next = Its events are kept. Fix the receiver, then turn the endpoint on again ({ $enable }): it receives what waited, and failed messages can be replayed ({ $replay }).
