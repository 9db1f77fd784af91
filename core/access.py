"""Who may use this Paystage: its owner, and the people the owner lets in.

1. The first person to /start a fresh install owns it. With
   PAYSTAGE_ALLOWED_TELEGRAM_IDS set, only an id on that list can: nobody else
   can claim a bot whose username leaked before its operator said /start.
   Ownership is one row with a fixed key, so when two first /start arrive at
   once exactly one of them wins; the other is told the Paystage is private.
2. Anyone else joins with an invite: the owner sends /invite and gets a code
   that works once and expires after INVITE_LIFETIME. A t.me link carries it
   (tapping the link sends /start CODE), or it is typed as /start CODE. It is
   used up in the same transaction that registers its new contractor: of two
   people with one code, one gets in.
3. Or by id: a Telegram user id listed in PAYSTAGE_ALLOWED_TELEGRAM_IDS joins
   without a code.
4. Everyone else is told what to do, and nothing is written.

A code is CODE_LENGTH characters of a 32-character alphabet, 60 random bits:
guessing is hopeless (about 10^18 tries for each live invite, where one
Telegram account sends a few messages a second), so refusals need no rate
limit. Only a SHA-256 of each code is stored, and no code reaches a log line
or the audit trail.
"""

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from core.context import Actor, Context
from core.errors import NotAllowed
from core.jobs import REF_ALPHABET, contractor_by_telegram, register_contractor
from core.journal import audit
from core.wording.language import _, ngettext
from storage.models import Contractor, Invite, Owner, db

log = logging.getLogger(__name__)

INVITE_LIFETIME = timedelta(days=7)
CODE_LENGTH = 12  # 60 bits; shown in groups of four: K7Q2-M9XP-4RTW

OWNER, INVITED, LISTED, RETURNING = "owner", "invite", "allowed_id", "returning"  # how someone came in


@dataclass(frozen=True)
class Joined:
    contractor: Contractor
    via: str  # OWNER (they just became its owner), INVITED, LISTED, or RETURNING (they were in already)
    owner: bool  # they own this Paystage (since now or from before)


@dataclass(frozen=True)
class Invitation:
    code: str  # as the owner passes it on: K7Q2-M9XP-4RTW
    expires_at: datetime


def join(ctx: Context, *, telegram_id: int, name: str, code: str = "",
         allowed_ids: frozenset[int] = frozenset()) -> Joined:
    """Let the Telegram user `telegram_id` in as a contractor (named `name`), or say why not and write nothing."""
    may_own = not allowed_ids or telegram_id in allowed_ids
    if may_own and owner_id() is None:
        claimed = _settled(telegram_id, lambda: _claim(ctx, telegram_id, name))
        if claimed:
            return claimed
    contractor = contractor_by_telegram(telegram_id)
    if contractor:
        return Joined(contractor, RETURNING, owner_id() == contractor.id)
    if telegram_id in allowed_ids:
        return _settled(telegram_id, lambda: _register(ctx, telegram_id, name, LISTED))
    if not _normal(code):
        raise NotAllowed(_private(telegram_id))
    return _settled(telegram_id, lambda: _use_invite(ctx, telegram_id, name, _normal(code)))


def invite(ctx: Context, actor: Actor) -> Invitation:
    """A new one-time code for the owner to pass on; nobody else may invite."""
    owner = owner_id()
    if actor.kind != "contractor" or owner != int(actor.key):
        raise NotAllowed(_not_the_owner(owner))
    code = "".join(secrets.choice(REF_ALPHABET) for _i in range(CODE_LENGTH))
    now = ctx.clock()
    expires = now + INVITE_LIFETIME
    with db.atomic():
        row = Invite.create(code_hash=_digest(code), created_by=owner, created_at=now, expires_at=expires)
        audit(None, actor, "invite_created", now, new={"invite": row.id, "expires_at": expires})
    return Invitation("-".join(code[i:i + 4] for i in range(0, CODE_LENGTH, 4)), expires)


def owner_id() -> int | None:
    """The id of the contractor who owns this Paystage; None until someone has said /start."""
    row = Owner.get_or_none(Owner.id == 1)
    return row.contractor_id if row else None


# --- the ways in ---------------------------------------------------------------------------------------


def _claim(ctx: Context, telegram_id: int, name: str) -> Joined:
    """The first /start: this user owns the Paystage. A second claimant's insert breaks the key and rolls back."""
    now = ctx.clock()
    with db.atomic():
        # a contractor from before may claim it too (an install upgraded with no Telegram user among them)
        contractor = (contractor_by_telegram(telegram_id)
                      or register_contractor(ctx, business_name=name, telegram_id=telegram_id, via=OWNER))
        Owner.insert(id=1, contractor=contractor, claimed_at=now).execute()
        audit(None, Actor.contractor(contractor.id), "owner_claimed", now, new={"telegram_id": telegram_id})
        return Joined(contractor, OWNER, True)


def _register(ctx: Context, telegram_id: int, name: str, via: str) -> Joined:
    with db.atomic():
        return Joined(register_contractor(ctx, business_name=name, telegram_id=telegram_id, via=via), via, False)


def _use_invite(ctx: Context, telegram_id: int, name: str, code: str) -> Joined:
    """Use up the invite and register, in one transaction: a conditional update only one claimant can make."""
    now, digest = ctx.clock(), _digest(code)
    with db.atomic():
        taken = (Invite.update(used_at=now)
                 .where(Invite.code_hash == digest, Invite.used_at.is_null(), Invite.expires_at > now).execute())
        if taken != 1:
            invite = Invite.get_or_none(Invite.code_hash == digest)
            reason = "unknown" if invite is None else "used" if invite.used_at else "expired"
            log.info("invite refused for Telegram user %s: %s code", telegram_id, reason)
            raise NotAllowed(_refused(reason, telegram_id))
        contractor = register_contractor(ctx, business_name=name, telegram_id=telegram_id, via=INVITED)
        Invite.update(used_by=contractor).where(Invite.code_hash == digest).execute()
        invite = Invite.get(Invite.code_hash == digest)
        audit(None, Actor.contractor(contractor.id), "invite_used", now,
              new={"invite": invite.id, "invited_by": invite.created_by_id})
        return Joined(contractor, INVITED, False)


def _settled(telegram_id: int, attempt) -> Joined | None:
    """`attempt()`, or when another request won the race (a second owner, a double tap) what it left behind."""
    try:
        return attempt()
    except IntegrityError:
        contractor = contractor_by_telegram(telegram_id)
        return Joined(contractor, RETURNING, owner_id() == contractor.id) if contractor else None


# --- codes and words -----------------------------------------------------------------------------------


def _normal(code: str) -> str:
    """A code as typed or sent by a link, forgiving case, spaces and dashes: "k7q2 m9xp-4rtw" is K7Q2M9XP4RTW."""
    return re.sub(r"[^A-Z0-9]", "", code.upper())


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _private(telegram_id: int) -> str:
    return "\n".join((
        _("Sorry, this Paystage is private: only its owner and the people they invite can use it."),
        _("To join, ask the owner for an invite: they send /invite and give you a link to tap "
          "(or a code to send me as /start CODE)."),
        _by_id(telegram_id)))


def _refused(reason: str, telegram_id: int) -> str:
    if reason == "unknown":
        why = _("I do not know that invite code. Check it letter by letter (it looks like K7Q2-M9XP-4RTW), "
                "or ask the owner for a new invite.")
    elif reason == "used":
        why = _("That invite was already used: each invite lets one person in. Ask the owner for a new one.")
    else:  # expired
        days = INVITE_LIFETIME.days
        why = ngettext("That invite has expired: invites last {n} day. Ask the owner for a new one.",
                       "That invite has expired: invites last {n} days. Ask the owner for a new one.",
                       days).format(n=days)
    return f"{why}\n{_by_id(telegram_id)}"


def _by_id(telegram_id: int) -> str:
    return _("Or the owner can add your Telegram id, {telegram_id}, to PAYSTAGE_ALLOWED_TELEGRAM_IDS; "
             "then send /start again.").format(telegram_id=telegram_id)


def _not_the_owner(owner: int | None) -> str:
    if owner is None:
        return _("Only the owner of this Paystage can invite people, and it has none yet: send /start to become it.")
    name = Contractor.get_by_id(owner).business_name
    return _("Only the owner of this Paystage, {name}, can invite people: that keeps it to the people they "
             "trust. Ask them to send /invite and pass the link on.").format(name=name)
