"""WHEP offers from third-party players, made acceptable to aiortc without weakening the answer.

- **Profiles**: the relay forwards the studio's constrained-baseline H.264, which every H.264
  decoder profile decodes (CB is a subset of Baseline, Main and High). aiortc only matches codecs of
  the *same* profile, so an offer with only Baseline (``42001f``) or only High (``640c1f``) failed.
  We prefer the offer's own profile (CB first when offered) at our level, and answer in its profile.
- **Levels** (RFC 6184 §8.2.2): without ``level-asymmetry-allowed=1`` in the offer the answer must
  not claim a level above the one offered; with it, we answer our sending level and the flag.
- **Unsupported audio** (an offer with only PCMU/PCMA): that m-line is rejected in the answer (port
  0, inactive) instead of failing the whole session; aiortc cannot reject m-lines itself, so the
  section is taken out of the offer before aiortc sees it and put back, rejected, into the answer.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from aiortc import RTCRtpTransceiver
from aiortc.sdp import parse_h264_profile_level_id

_SECTION = re.compile(r"(?m)^m=")
_RTPMAP = re.compile(r"(?m)^a=rtpmap:(\d+) ([\w-]+)/")
_FMTP = re.compile(r"(?m)^a=fmtp:(\d+) (.*)$")
_MID = re.compile(r"(?m)^a=mid:(\S+)")
_CB_PREFIXES = ("42e0", "42c0", "4de0", "58e0")  # constrained baseline as RFC 6184 spells it


@dataclass(frozen=True)
class VideoPlan:
    preferences_plid: str  # the local codec to prefer: the offer's profile at our level
    answer_plid: str  # what the answer says
    asymmetry: bool  # the offer allows level asymmetry: the answer says so too


@dataclass(frozen=True)
class Rejected:
    index: int  # position among the offer's m-lines
    mid: str
    kind: str
    proto: str
    formats: str


def _split(sdp: str) -> tuple[str, list[str]]:
    starts = [m.start() for m in _SECTION.finditer(sdp)]
    if not starts:
        return sdp, []
    return sdp[:starts[0]], [sdp[a:b] for a, b in zip(starts, [*starts[1:], len(sdp)], strict=True)]


def _h264_offers(section: str) -> list[tuple[str, bool]]:
    """(profile-level-id, level-asymmetry-allowed) of each H.264 format in a video section."""
    fmtp = {pt: params for pt, params in _FMTP.findall(section)}
    found = []
    for pt, name in _RTPMAP.findall(section):
        if name.upper() != "H264":
            continue
        params = dict(p.strip().split("=", 1) for p in fmtp.get(pt, "").split(";") if "=" in p)
        plid = params.get("profile-level-id", "42001f").lower()
        try:
            parse_h264_profile_level_id(plid)
        except ValueError:
            continue
        found.append((plid, params.get("level-asymmetry-allowed") == "1"))
    return found


def plan_video(offer: str, sending_plid: str) -> VideoPlan | None:
    """How to answer the offer's video; None without a video section. ValueError: no H.264 at all."""
    _, sections = _split(offer)
    video = [s for s in sections if s.startswith("m=video")]
    if not video:
        return None
    offered = _h264_offers(video[0])
    if not offered:
        names = sorted({n.upper() for _, n in _RTPMAP.findall(video[0])} - {"RTX", "RED", "ULPFEC"})
        raise ValueError(f"the relay sends H.264 video; this offer has only {', '.join(names) or 'no codec'}")
    plid, asymmetry = next(((p, a) for p, a in offered if p.startswith(_CB_PREFIXES)), offered[0])
    ours = int(sending_plid[4:], 16)
    theirs = int(plid[4:], 16)
    level = ours if asymmetry else min(ours, theirs)
    return VideoPlan(preferences_plid=f"{plid[:4]}{ours:02x}", answer_plid=f"{plid[:4]}{level:02x}",
                     asymmetry=asymmetry)


def pin_answer(transceiver: RTCRtpTransceiver, plan: VideoPlan) -> None:
    """After ``setRemoteDescription``: the answer's H.264 says ``plan`` (aiortc copies its own entry)."""
    codecs = [copy.deepcopy(c) for c in transceiver._codecs]
    for codec in codecs:
        if codec.mimeType.lower() == "video/h264":
            codec.parameters["profile-level-id"] = plan.answer_plid
            if plan.asymmetry:
                codec.parameters["level-asymmetry-allowed"] = 1
            else:
                codec.parameters.pop("level-asymmetry-allowed", None)
    transceiver._codecs = codecs


def strip_unsupported_audio(offer: str) -> tuple[str, list[Rejected]]:
    """The offer without audio sections that have no Opus, and what was taken out."""
    head, sections = _split(offer)
    kept: list[str] = []
    rejected: list[Rejected] = []
    for index, section in enumerate(sections):
        names = {n.upper() for _, n in _RTPMAP.findall(section)}
        if section.startswith("m=audio") and "OPUS" not in names:
            mline = section.splitlines()[0].split()
            mid = _MID.search(section)
            rejected.append(Rejected(index, mid.group(1) if mid else str(index), "audio", mline[2],
                                     " ".join(mline[3:]) or "0"))
            continue
        kept.append(section)
    if not rejected or not kept:
        return offer, []  # nothing to take out (or nothing would be left: let aiortc say so)
    gone = {r.mid for r in rejected}
    head = re.sub(r"(?m)^a=group:BUNDLE (.*)$",
                  lambda m: "a=group:BUNDLE " + " ".join(x for x in m.group(1).split() if x not in gone), head)
    return head + "".join(kept), rejected


def reinsert_rejected(answer: str, rejected: list[Rejected]) -> str:
    """Put the taken-out sections back into the answer, rejected (port 0), in the offer's order."""
    if not rejected:
        return answer
    head, sections = _split(answer)
    for r in sorted(rejected, key=lambda r: r.index):
        sections.insert(min(r.index, len(sections)),
                        f"m={r.kind} 0 {r.proto} {r.formats}\r\nc=IN IP4 0.0.0.0\r\na=mid:{r.mid}\r\na=inactive\r\n")
    return head + "".join(sections)


def ingest_refusal(offer: str) -> str | None:
    """Why the relay's WHIP ingest cannot take this offer, in words (None: it can).

    The relay forwards what it receives without re-encoding to WHEP viewers that are offered H.264
    (the viewer page, players): a VP8-only publisher (a browser's default, some encoders) is told
    so plainly instead of failing inside aiortc.
    """
    _, sections = _split(offer)
    video = [s for s in sections if s.startswith("m=video")]
    if video and not _h264_offers(video[0]):
        names = sorted({n.upper() for _, n in _RTPMAP.findall(video[0])} - {"RTX", "RED", "ULPFEC"})
        return (f"the relay takes H.264 video (and Opus audio); this offer has {', '.join(names) or 'no codec'}: "
                "set the encoder or browser to H.264")
    audio = [s for s in sections if s.startswith("m=audio")]
    if audio and "OPUS" not in {n.upper() for _, n in _RTPMAP.findall(audio[0])}:
        return "the relay takes Opus audio; this offer has none"
    return None
