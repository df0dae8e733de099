"""Helpers on stored results: rubric snapshots, effective (overridden) values, draft comparison."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from .engine import marker
from .models import Override, Result
from .views import ResultView


CRITERIA = ("relevance", "evidence", "range", "luck", "analysis", "judgement", "communication")


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def _parse_rubric_cached(yaml_text: str, source: str):
    return marker.parse_rubric(yaml_text, source=source)


def rubric_of(yaml_text: str, source: str = "assignment rubric"):
    """The rubric object for an assignment's YAML snapshot (parsed once per text)."""
    return _parse_rubric_cached(yaml_text, source)


def shipped_rubric_yaml(rubric_id: str) -> str:
    """The YAML text of a shipped rubric, for the assignment's snapshot."""
    rub = marker.load_rubric(rubric_id)
    src = getattr(rub, "source", None)
    if src and Path(src).is_file():
        return Path(src).read_text(encoding="utf-8")
    import yaml  # fall back to re-serialising the validated rubric

    return yaml.safe_dump(rub.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def flags_column(flags: Sequence[str]) -> str:
    return "," + ",".join(flags) + "," if flags else ""


LEARNT_PREFIX = "learnt:"  # Result.model of a learnt marker's results starts with this


def is_learnt(res: Result) -> bool:
    return res.model.startswith(LEARNT_PREFIX)


def pick_result(results: Sequence[Result], learnt_key: str | None = None) -> Result | None:
    """The result shown for a submission (``results`` in id order).

    The newest rubric-marker row; when the assignment uses a learnt marker (``learnt_key``)
    and that marker has a result for the same rubric version, that result instead.
    """
    base = next((r for r in reversed(results) if not is_learnt(r)), None)
    if base is None:
        return results[-1] if results else None
    if learnt_key:
        for r in results:
            if r.model == learnt_key and r.rubric_version == base.rubric_version:
                return r
    return base


def family_overrides(results: Sequence[Result], res: Result) -> list[Override]:
    """The teacher's overrides that apply to ``res``: those on any result of the same essay and
    rubric version (the rubric marker's or a learnt marker's), oldest first. The teacher's
    mark is the teacher's whichever marker is shown."""
    out = [o for r in results if r.rubric_version == res.rubric_version for o in r.overrides]
    return sorted(out, key=lambda o: o.id)


def effective_values(res: Result, overrides: Sequence[Override] | None = None
                     ) -> tuple[int, int, dict[str, int], dict[str, list[str]], Override | None]:
    data = res.result_json
    bands = {c["id"]: c["band"] for c in data.get("criteria", [])}
    feedback = {k: list(v) for k, v in data.get("feedback", {}).items()}
    ovs = res.overrides if overrides is None else overrides
    ov = ovs[-1] if ovs else None
    if ov is None:
        return res.mark, res.level, bands, feedback, None
    return ov.mark, ov.level, {**bands, **ov.bands}, ov.feedback or feedback, ov


def result_view(res: Result, overrides: Sequence[Override] | None = None) -> ResultView:
    ovs = list(res.overrides if overrides is None else overrides)
    mark, level, bands, feedback, ov = effective_values(res, ovs)
    return ResultView(
        id=res.id, rubric_version=res.rubric_version, model=res.model, marker_version=res.marker_version,
        created_at=res.created_at, data=res.result_json, marker_mark=res.mark, marker_level=res.level,
        mark=mark, level=level, marker_bands={c["id"]: c["band"] for c in res.result_json.get("criteria", [])},
        bands=bands, feedback=feedback, overridden=ov is not None,
        overrides=[{"id": o.id, "teacher": o.teacher.name, "at": o.created_at, "changes": o.changes,
                    "reason": o.reason, "mark": o.mark, "level": o.level} for o in ovs],
    )


def compare_drafts(prev: dict[str, Any], cur: dict[str, Any], rubric, show_mark: bool = True) -> list[str]:
    """What changed between two MarkResult JSONs, in a student's words."""
    out: list[str] = []
    if show_mark and prev.get("mark") != cur.get("mark"):
        verb = "went up" if cur["mark"] > prev["mark"] else "went down"
        out.append(f"Your mark {verb} from {prev['mark']} to {cur['mark']}.")
    pb = {c["id"]: c["band"] for c in prev.get("criteria", [])}
    for c in cur.get("criteria", []):
        before = pb.get(c["id"])
        if before is None or before == c["band"]:
            continue
        crit = rubric.criterion(c["id"]) if rubric is not None else None
        label = crit.name if crit else c["id"].capitalize()
        if c["band"] > before:
            out.append(f"{label} went from band {before} to {c['band']}.")
        else:
            out.append(f"{label} dropped from band {before} to {c['band']}.")
    labels = {p.id: p.label for p in rubric.points} if rubric is not None else {}
    prev_found = {p["id"] for p in prev.get("points", []) if p.get("found")}
    cur_found = {p["id"] for p in cur.get("points", []) if p.get("found")}
    for pid in sorted(cur_found - prev_found):
        out.append(f"You now cover: {labels.get(pid, pid)}.")
    for pid in sorted(prev_found - cur_found):
        out.append(f"You no longer cover: {labels.get(pid, pid)}.")
    return out
