#!/usr/bin/env python3
"""Cases for jobctl's cron tests, computed with the pinned Python client's croniter (2.0.7) and zoneinfo.

    .venv/bin/python scripts/cron_table.py next      one JSON line per case: pattern, tz, base, croniter, rule,
                                                     clock_change
    .venv/bin/python scripts/cron_table.py grammar   one JSON line per pattern: pattern, accepted (by croniter)
    .venv/bin/python scripts/cron_table.py offsets   one JSON line per zone: tz, [[utc seconds, offset], …]

"next": patterns x zones x bases around the 2026 clock changes (and ordinary days). "croniter" is what BullMQ's
Python client computes (`default_repeat_strategy`); "rule" is jobctl's documented rule, computed here
independently of croniter's search: the first wall-clock time after the base (one field-granule on) that matches
the pattern (croniter's own field expansion, the day-of-month/day-of-week OR, nth weekdays), read with the offset
in force before a clock change (fold=0), skipping a wall time whose first pass is not after the base. The two differ
only on clock changes ("clock_change", given where they differ: the zone's offset changes within a day of the
earliest or the latest of base, croniter and rule), where croniter moves daily schedules by an hour and can answer
a time before the base.
"""
import calendar
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bullmq.job_scheduler import default_repeat_strategy
from croniter import croniter

PATTERNS = [
    "0 * * * *", "*/30 * * * *", "30 1 * * *", "0 2 * * *", "30 2 * * *", "0 9 * * *", "0 0 * * *", "0 23 * * *",
    "15 */3 * * *", "0 9 * * 1", "0 0 1 * 1", "45 1-3 * * *", "0 */6 * * *", "*/15 * * * * *", "0 30 1 * * *",
    "0 12 L * *", "0 8 * * 5#2", "0 8 * * L5", "5 4 * * MON-FRI", "0 0 1,15 JAN-JUN *", "30 6 * * SAT,SUN",
    "0 22 * * 0-4", "10/20 * * * *", "@daily", "0 0 29 2 *", "0 3 ? * 7", "*/10 5 10-20 * * *",
]
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", None]
WINDOWS = ["2026-03-06", "2026-03-27", "2026-10-23", "2026-10-30", "2026-04-03", "2026-09-04", "2026-10-02"]


def expansion(pattern):
    it = croniter(pattern, datetime(2026, 1, 1, tzinfo=timezone.utc), second_at_beginning=True)
    return it.expanded, it.nth_weekday_of_month, len(it.expanded) == 6


def day_matches(exp, nth, year, month, day):
    doms, mons, dows = exp[2], exp[3], exp[4]
    if mons[0] != "*" and month not in mons:
        return False
    last = calendar.monthrange(year, month)[1]
    dow = (datetime(year, month, day).weekday() + 1) % 7
    dom_ok = doms[0] == "*" or day in doms or ("l" in doms and day == last)
    if nth:
        hits = set()
        for wday, which in nth.items():
            if wday % 7 == dow:
                hits |= which
        dow_ok = ((day - 1) // 7 + 1) in hits or ("l" in hits and day + 7 > last)
        return dow_ok if doms[0] != "*" and dows[0] != "*" else dom_ok and dow_ok
    dow_ok = dows[0] == "*" or dow in dows  # a 7 left in the list never matches, as in croniter
    if doms[0] != "*" and dows[0] != "*":
        return dom_ok or dow_ok
    return dom_ok and dow_ok


def values(field, low, high):
    return list(range(low, high + 1)) if field[0] == "*" else sorted(v for v in field if isinstance(v, int))


def first_wall(exp, nth, six, start):
    """The first matching naive wall time at or after `start`."""
    hours, minutes = values(exp[1], 0, 23), values(exp[0], 0, 59)
    seconds = values(exp[5], 0, 59) if six else [0]
    day = start.replace(hour=0, minute=0, second=0)
    for _ in range(366 * 28):
        if day_matches(exp, nth, day.year, day.month, day.day):
            for h in hours:
                for m in minutes:
                    for s in seconds:
                        candidate = day.replace(hour=h, minute=m, second=s)
                        if candidate >= start:
                            return candidate
        day += timedelta(days=1)
    return None


def rule_next(pattern, tzname, base_ms):
    tz = ZoneInfo(tzname) if tzname else timezone.utc
    exp, nth, six = expansion(pattern)
    start = base_ms // 1000 + (1 if six else 60)
    wall = datetime.fromtimestamp(start, tz).replace(tzinfo=None)
    if not six:
        wall = wall.replace(second=0)
    while True:
        found = first_wall(exp, nth, six, wall)
        if found is None:
            return None
        instant = int(found.replace(tzinfo=tz, fold=0).timestamp())
        if instant * 1000 > base_ms:
            return instant * 1000
        wall = found + timedelta(seconds=1 if six else 60)


def clock_changes(tz, *instants_ms):
    """Whether the zone's offset changes within a day of the earliest or of the latest of the instants."""
    known = [i // 1000 for i in instants_ms if i is not None]
    low, high = min(known), max(known)
    samples = list(range(low - 3600, low + 26 * 3600, 600)) + list(range(high - 26 * 3600, high + 3600, 600))
    return len({datetime.fromtimestamp(t, tz).utcoffset() for t in samples}) > 1


def next_cases():
    random.seed(7)
    for tzname in ZONES:
        tz = ZoneInfo(tzname) if tzname else timezone.utc
        for pattern in PATTERNS:
            for window in WINDOWS:
                start = int(datetime.fromisoformat(window + "T00:00:00").replace(tzinfo=tz).timestamp() * 1000)
                step = 997 if pattern.count(" ") == 5 else 149
                for minute in range(0, 6 * 24 * 60, step):
                    base = start + minute * 60000 + random.choice([0, 1, 499, 59999])
                    options = {"pattern": pattern, **({"tz": tzname} if tzname else {})}
                    theirs = default_repeat_strategy(base, options)
                    ours = rule_next(pattern, tzname, base)
                    print(json.dumps({"pattern": pattern, "tz": tzname, "base": base, "croniter": theirs,
                                      "rule": ours,
                                      "clock_change": theirs != ours and clock_changes(tz, base, theirs, ours)}))


GRAMMAR = [
    "* * * * *", "0 0 * * *", "*/5 * * * * *", "0 0 1 1 *", "  0   0  * * *  ", "0 0 ? * 1", "0 0 1 * ?",
    "0 0 L * *", "0 0 1,L * *", "0 0 * * 5#2", "0 0 * * FRI#2", "0 0 * * mon-fri#2", "0 0 * * L5", "0 0 * * 5L",
    "0 0 * * 1-7", "0 0 * * 0-7", "0 0 * * 7", "0 0 * * SUN-SAT", "0 0 * * FRI-SUN", "0 0 * JAN-MAR MON",
    "0 0 * jan,feb *", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
    "@minutely", "@reboot", "* * * *", "* * * * * * *", "60 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 32 * *",
    "0 0 * 13 *", "0 0 * * 8", "*/0 * * * *", "58-2 * * * *", "0 0 L-2 * *", "0 0 LW * *", "0 0 15W * *",
    "H * * * *", "0 0 * * 5#6", "0 0 * * 5#0", "? * * * *", "0 0 ?,1 * *", "-1 * * * *", "+5 * * * *",
    "1,,2 * * * *", "0 0 * * 1,5#2", "a * * * *", "0 0 * FOO *", "0 0 * * MONDAY", "5/15 * * * *",
    "0 0 30 2 *", "0 0 31 2 *", "0 0 29 2 1", "0 0 31 4 *", "0 0 0 1 * *", "0 0 0 * * 7", "1-5/2 * * * *",
    "0 0 1-L * *", "0 0 * * 5#2,3#1", "0 0 * 0 *", "* * * * * 60", "*/60 * * * *", "0 0 1-31 * 1",
]


def grammar_cases():
    for pattern in GRAMMAR:
        try:
            default_repeat_strategy(1767225600000, {"pattern": pattern})
            accepted = True
        except Exception:
            accepted = False
        print(json.dumps({"pattern": pattern, "accepted": accepted}))


def offset_cases():
    for name in ZONES[:-1] + ["Europe/London", "Asia/Tokyo", "Pacific/Chatham", "America/St_Johns", "UTC"]:
        tz = ZoneInfo(name)
        points = []
        for seconds in range(-2_000_000_000, 4_200_000_000, 3_600 * 24 * 7 + 3_607):
            points.append([seconds, int(datetime.fromtimestamp(seconds, tz).utcoffset().total_seconds())])
        print(json.dumps({"tz": name, "offsets": points}))


if __name__ == "__main__":
    {"next": next_cases, "grammar": grammar_cases, "offsets": offset_cases}[sys.argv[1]]()
