"""A vision judge sees the sample's images: encoded as a server takes them, part of the cache key, sent
only when the ``images`` option is on."""

from __future__ import annotations

import base64
import io

import pytest
from judge_doubles import FakeJudgeServer, user_text
from PIL import Image
from seethink_eval.judge import images
from seethink_eval.judge.cache import JudgeCache
from seethink_eval.judge.client import ChatRequest, OpenAIClient
from seethink_eval.judge.evaluator import JudgeSplit
from seethink_eval.judge.judge import Judge
from seethink_eval.judge.options import JudgeOptions

from seethink_core.errors import DataError
from seethink_core.hooks.backend import Completion
from seethink_core.run.eval_types import EvalRecord
from seethink_core.types.sample import Sample


def picture(colour: str, size=(8, 6)) -> Image.Image:
    return Image.new("RGB", size, colour)


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    picture("blue").save(buf, format="JPEG")
    return buf.getvalue()


def decoded(url: str) -> Image.Image:
    head, data = url.split(",", 1)
    assert head.startswith("data:image/") and head.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_every_kind_of_sample_image_is_encoded(tmp_path):
    path = tmp_path / "fig.png"
    picture("red").save(path)
    assert images.encoded(picture("red"))[1] == "image/png"
    assert images.encoded(jpeg_bytes()) == (jpeg_bytes(), "image/jpeg")  # sent as it is
    assert images.encoded(str(path)) == (path.read_bytes(), "image/png")
    assert images.encoded({"bytes": None, "path": str(path)}) == (path.read_bytes(), "image/png")
    assert decoded(images.data_url(picture("red"))).getpixel((0, 0)) == (255, 0, 0)
    big = decoded(images.data_url(picture("green", size=(4000, 1000))))
    assert big.size == (images.MAX_SIDE, images.MAX_SIDE // 4)
    with pytest.raises(DataError, match="cannot read image"):
        images.encoded(b"not an image")
    assert images.digest(picture("red")) != images.digest(picture("blue"))


def test_a_request_with_images_sends_them_before_the_text():
    with FakeJudgeServer(lambda body: "LABEL: perception") as server:
        client = OpenAIClient(server.url, "vlm-judge", retries=0)
        client.complete(ChatRequest("sys", "look", images=(picture("red"), jpeg_bytes())))
    content = server.chats[0]["body"]["messages"][1]["content"]
    assert [p["type"] for p in content] == ["image_url", "image_url", "text"] and content[2]["text"] == "look"
    assert decoded(content[0]["image_url"]["url"]).getpixel((0, 0)) == (255, 0, 0)
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_the_image_is_part_of_the_cache_key(tmp_path):
    with FakeJudgeServer(lambda body: "LABEL: perception") as server:
        judge = Judge(OpenAIClient(server.url, "vlm-judge", retries=0), JudgeCache(tmp_path))
        for colour in ("red", "red", "blue"):
            judge.label_error("q", "1", "2", images=[picture(colour)])
        judge.label_error("q", "1", "2")
    assert len(server.chats) == 3


def record(i: int, image: Image.Image) -> EvalRecord:
    sample = Sample(id=f"s{i}", prompt=f"question {i}", answer="1", capability="visual_reasoning", images=[image])
    return EvalRecord(sample, "set", [Completion("I see 2", 3)], [False], [0.0])


@pytest.mark.parametrize("shown", [True, False])
def test_the_evaluator_shows_the_images_only_when_told_to(tmp_path, monkeypatch, shown):
    monkeypatch.setenv("SEETHINK_CACHE", str(tmp_path))
    with FakeJudgeServer(lambda body: "LABEL: perception") as server:
        got = JudgeSplit(JudgeOptions(url=server.url, model="vlm-judge", retries=0, images=shown))(
            [record(0, picture("red"))])
    assert got["judge.perception_errors"] == 1.0
    content = server.chats[0]["body"]["messages"][1]["content"]
    if shown:
        assert content[0]["type"] == "image_url"
        text = content[-1]["text"]
        assert "The image is attached" in text and "You cannot see the image" not in text
    else:
        assert isinstance(content, str)
        assert "You cannot see the image" in user_text(server.chats[0]["body"])
