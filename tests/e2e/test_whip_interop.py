"""WHIP interop found wanting with third-party servers: DELETE before the peer connection closes
(Janus + simple-whip-server answered 404 otherwise), a 404 on DELETE is logged, and a server that
offers no H.264 gets a plain message."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from test_whip_protocol import ScriptedServer, created, make_output

from studio.net import NetLoop
from studio.outputs.sdp_check import answer_codecs, missing_h264
from studio.outputs.whip_events import OutputStatus


class JanusLike(ScriptedServer):
    """Answers DELETE 404 when the session's connection has already closed, as Janus does."""

    def __init__(self) -> None:
        super().__init__()
        self.state_at_delete: list[str] = []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "DELETE":
            state = self.pcs[-1].connectionState if self.pcs else "none"
            self.state_at_delete.append(state)
            await super()._handle(request)
            return web.Response(status=200 if state == "connected" else 404)
        return await super()._handle(request)


@pytest.fixture
def janus(net: NetLoop):  # type: ignore[no-untyped-def]
    srv = JanusLike()
    net.run(srv.start())
    yield srv
    net.run(srv.stop())


def test_delete_goes_out_while_the_session_is_still_up(net: NetLoop, janus: JanusLike,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    output, states = make_output(net, janus.url("/whip/endpoint/abc"))
    output.start()
    states.wait(OutputStatus.LIVE)
    with caplog.at_level(logging.WARNING, logger="studio.outputs.whip"):
        output.stop()
    janus.wait_for("DELETE", path="/resource/1")
    assert janus.state_at_delete == ["connected"]
    assert "404" not in caplog.text


def test_404_on_delete_is_logged_not_taken_for_success(net: NetLoop, caplog: pytest.LogCaptureFixture) -> None:
    class Forgetful(ScriptedServer):
        async def _handle(self, request: web.Request) -> web.StreamResponse:
            response = await super()._handle(request)
            return web.Response(status=404) if request.method == "DELETE" else response

    srv = Forgetful()
    net.run(srv.start())
    try:
        output, states = make_output(net, srv.url("/whip"))
        output.start()
        states.wait(OutputStatus.LIVE)
        with caplog.at_level(logging.WARNING, logger="studio.outputs.whip"):
            output.stop()
        assert "answered 404: the server no longer knew the session" in caplog.text
    finally:
        net.run(srv.stop())


def test_a_server_without_h264_is_told_plainly(net: NetLoop, janus: JanusLike) -> None:
    async def vp8_only(request: web.Request, offer: str) -> web.Response:
        answer = await janus.answer(offer)
        answer = answer.replace("H264/90000", "VP8/90000")
        return web.Response(status=201, text=answer, content_type="application/sdp",
                            headers={"Location": "/resource/1"})

    janus.posts.append(vp8_only)
    output, states = make_output(net, janus.url("/whip/endpoint/vp8"))
    output.start()
    failed = states.wait(OutputStatus.FAILED)
    output.stop()
    assert "offers no H.264" in failed.message and "VP8" in failed.message


def test_answer_codecs_reads_media_sections() -> None:
    sdp = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
           "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n")
    assert answer_codecs(sdp) == {"audio": ["OPUS"], "video": []}
    assert missing_h264(sdp) is not None
    assert missing_h264(sdp.replace("VP8", "H264").replace("m=video 0", "m=video 9")) is None
    _ = created  # the default handler answers with H.264
