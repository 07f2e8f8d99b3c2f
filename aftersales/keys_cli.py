"""``aftersales keys``: issue, list and revoke API keys.

- ``keys issue --branch SH --role agent --subject SH-A007 [--expires 30d] [--engineer-id ID]``
  prints a new key signed with ``AFTERSALES_SECRET`` and records it (never the key itself: its
  id, subject, branch, role and times) in the keys ledger ``<AFTERSALES_VAR_DIR>/keys.jsonl``.
- ``keys list [--json]`` shows the ledger: every key issued here, and whether it is active,
  expired or revoked.
- ``keys revoke KID [--reason TEXT]`` publishes ``key_revoked`` (exchange ``keys.events``);
  every service records the key id in its own ``revoked_keys`` table and refuses the key from
  then on (within seconds, and after restarts). The ledger records the revocation too.
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import config as cfg


def ledger_path(env=os.environ) -> Path:
    return cfg.var_dir(env) / "keys.jsonl"


def _append(entry: dict, env=os.environ) -> None:
    path = ledger_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")


def read_ledger(env=os.environ) -> list[dict]:
    """One row per issued key (latest state), in issue order."""
    path = ledger_path(env)
    keys: dict[str, dict] = {}
    if not path.exists():
        return []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        kid = entry.get("kid")
        if entry.get("event") == "issued":
            keys[kid] = {**entry, "revoked_at": None}
        elif entry.get("event") == "revoked":
            row = keys.setdefault(kid, {"kid": kid, "event": "issued"})
            row["revoked_at"] = entry.get("at")
            row["reason"] = entry.get("reason")
    return list(keys.values())


def _iso(ts) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "-"


def _status(row: dict, now: float) -> str:
    if row.get("revoked_at"):
        return "revoked"
    if row.get("exp") and row["exp"] <= now:
        return "expired"
    return "active"


def _fail(message: str) -> int:
    print(f"aftersales keys: {message}", file=sys.stderr)
    return 2


def _check_branch(branch: str) -> None:
    """A key names a branch the services know (as they read them), or HQ."""
    from .auth import HQ
    from .reference import branches
    known = branches(os.environ.get("AFTERSALES_REFERENCE_DIR"))
    if branch != HQ and branch not in known:
        raise ValueError(f"unknown branch {branch!r}; one of {', '.join([HQ, *sorted(known)])}")


def cmd_issue(args) -> int:
    from .auth import key_claims, parse_duration, sign_claims
    try:
        _check_branch(args.branch)
        if args.engineer_id and args.role != "engineer":
            raise ValueError("--engineer-id is only for --role engineer")
        secret = cfg.signing_secret()
        default, maximum = cfg.key_expiry()
        expires = parse_duration(args.expires, "--expires") if args.expires else default
        claims = key_claims(args.branch, args.role, args.engineer_id, subject=args.subject,
                            expires_in=expires, max_lifetime=maximum)
    except ValueError as exc:
        return _fail(str(exc))
    key = sign_claims(secret, claims)
    _append({"event": "issued", **claims})
    print(key)
    return 0


def cmd_list(args) -> int:
    now = time.time()
    rows = read_ledger()
    for row in rows:
        row["status"] = _status(row, now)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(f"no keys issued from here yet (ledger: {ledger_path()})")
        return 0
    print(f"{'kid':<18} {'status':<8} {'subject':<20} {'branch':<6} {'role':<12} "
          f"{'issued':<20} {'expires':<20} revoked")
    for r in rows:
        print(f"{r['kid']:<18} {r['status']:<8} {str(r.get('sub', '-')):<20} "
              f"{str(r.get('branch', '-')):<6} {str(r.get('role', '-')):<12} "
              f"{_iso(r.get('iat')):<20} {_iso(r.get('exp')):<20} {r.get('revoked_at') or '-'}")
    return 0


def cmd_revoke(args) -> int:
    from .revocation import publish_revocation
    known = {r["kid"]: r for r in read_ledger()}
    row = known.get(args.kid, {})
    try:
        publish_revocation(os.environ.get("AMQP_URI", cfg.DEFAULT_AMQP_URI), args.kid,
                           reason=args.reason, subject=row.get("sub"))
    except ValueError as exc:
        return _fail(str(exc))
    except Exception as exc:
        return _fail(f"could not publish the revocation to the broker ({type(exc).__name__}: "
                     f"{exc}); nothing was revoked, try again")
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _append({"event": "revoked", "kid": args.kid, "at": at, "reason": args.reason})
    note = "" if row else " (it is not in this machine's ledger; revoked anyway)"
    print(f"key {args.kid} revoked{note}: every service refuses it once it has read the event")
    return 0


def register(sub) -> None:
    """Add ``keys issue|list|revoke`` to the ``aftersales`` command's subparsers."""
    from .auth import ROLES
    k = sub.add_parser("keys", help="API keys: issue, list, revoke")
    ksub = k.add_subparsers(dest="keys_action", required=True)
    ki = ksub.add_parser("issue", help="print a new signed API key (and record it in the ledger)")
    ki.add_argument("--branch", required=True, help="branch code (e.g. SH) or HQ for all branches")
    ki.add_argument("--role", required=True, choices=ROLES, metavar="ROLE",
                    help=f"one of {', '.join(ROLES)}")
    ki.add_argument("--engineer-id", help="required for --role engineer")
    ki.add_argument("--subject", help="who the key is for: a staff or system id (not a name or "
                    "e-mail: it is logged as 'by'); default: the engineer id, else BRANCH-ROLE")
    ki.add_argument("--expires", help="lifetime, e.g. 30d, 12h, 2w (default "
                    "AFTERSALES_KEY_DEFAULT_EXPIRY, 90d; at most AFTERSALES_KEY_MAX_EXPIRY, 365d)")
    ki.set_defaults(func=cmd_issue)
    kl = ksub.add_parser("list", help="keys issued from this machine: active, expired, revoked")
    kl.add_argument("--json", action="store_true")
    kl.set_defaults(func=cmd_list)
    kr = ksub.add_parser("revoke", help="revoke one key by its id (every service refuses it)")
    kr.add_argument("kid", help="the key id (from `keys list`)")
    kr.add_argument("--reason", default=None)
    kr.set_defaults(func=cmd_revoke)
