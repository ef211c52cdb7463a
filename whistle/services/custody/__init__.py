"""Every path to a key. Read this first if you touch anything that wraps, unwraps or releases.

THE RULE: NOTHING HANDS A KEY ON AUTOMATICALLY. Every wrap of a key to a new public key is
made in the session of a named person who held that key and acted on purpose for that one
recipient, and it writes an audit entry. Not at log-in, not when the admin creates or resets
an account, not by the sweep. What one approval allows, it allows once. A new path to a key
belongs in this package and in this list, or it is a bug.

Officer key (HPKE key pair per officer)
    * made at enrolment (``people.accounts.complete_enrolment``), sealed under Argon2id of the
      passphrase the officer chose; unsealed only by that passphrase at log-in.
    * a reset (``people.accounts.reset_enrolment``) discards it: everything wrapped to the old
      key is dropped (``membership.pending_again``). Refused for a team's last key holder.

Team key (HPKE key pair per team = one role at one unit)
    * made by ``teams.create_team`` and wrapped to the first member only: the one hand-over
      without an approver, because a new team has no holder yet. Whoever creates a team (the
      admin) chooses who reads the cases later routed to it; existing cases stay closed.
    * every later wrap: ``membership.approve``, by a holder of the key in their own session,
      after comparing the newcomer's key fingerprint out of band; two distinct holders for a
      team that holds identity shares (while it has two). Audited (``team.member_approve``,
      ``team.member_wrap``) and told to the team (``notices``). Any holder may refuse
      (``membership.refuse``).
    * dropped by ``teams.remove_member`` and by a reset; the last key holder of a team can be
      neither removed, reset nor deactivated (``teams.sole_holder_teams``).
    * unwrapped only for its holder: ``membership.held_team_keys`` at log-in,
      ``membership.sync_session_keys`` on each request (installed into web.officer_auth).

Case key (32 random bytes per case)
    * made at filing (``reporter.reports``), wrapped to the reporter's ticket key and to the
      receiving unit's verifikator team.
    * ``casekeys.grant_team``: to a team the case is routed to (a transition by an officer who
      holds the case key) or to the PYB custodian team when an identity request is made.
    * opened by ``casekeys.open_case`` with the session's team keys; the ticket path by the
      reporter's log-in. At intake the desk's ticket is single-use (``reporter.intake_ticket``).

Identity key (32 random bytes per case with identity or witnesses)
    * split 2-of-2 at filing; share 1 wrapped to the UKI custodian team, share 2 to the PYB
      custodian team. Never wrapped to the ticket or the case key.
    * ``escalation`` (request, PYB decision or the reporter's ``consent``) makes an ephemeral
      key pair per request, its private half wrapped to the requester; ``releases`` re-wraps
      each share, by a custodian in their own session, to that ephemeral key only, and
      destroys the ephemeral key once the identity has been shown, refused or expired.

Audit keys (instance secrets, never in the database): ``audit`` chains and signs the log.

Content that leaves the system is not a key but is listed for completeness: a referral
package (``records.referral``) is encrypted by an officer, on purpose, to an agency key the
admin registered; officers see its fingerprint before sending.
"""
