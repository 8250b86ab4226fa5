"""A studio user writes template text, never code that runs on the server: page templates
and scene text are sandboxed Jinja over read-only data, so an attempt to reach Python's
internals fails the preview (and so the publish checks), and runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.infra.services import Services
from app.preview.site import site_html
from app.preview.stills import Previews
from app.templates.bundles import bundle_from_files
from app.templates.files import shipped_files
from app.templates.validation import validate

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ self._TemplateReference__context }}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_page_template_cannot_reach_python(
    services: Services, escape: str, tmp_path: Path
) -> None:
    files = shipped_files("bill-explainer")
    page = files["microsite/index.html.j2"].decode()
    files["microsite/index.html.j2"] = page.replace("</body>", escape + "</body>").encode()
    assert validate(files, "bill-explainer") == []  # it parses: the sandbox stops it when run
    bundle = bundle_from_files(services, "bill-explainer", files, 2)
    with pytest.raises(Exception, match=r"unsafe|not safely|undefined|has no attribute") as caught:
        site_html(bundle, "pay", "en")
    assert "PWNED" not in str(caught.value)
    assert not list(Path.cwd().glob("PWNED")) and not list(tmp_path.glob("PWNED"))


@pytest.mark.parametrize("escape", ESCAPES)
def test_scene_text_cannot_reach_python(services: Services, escape: str) -> None:
    files = shipped_files("bill-explainer")
    spec = files["scenes/scenes.yaml"].decode()
    files["scenes/scenes.yaml"] = spec.replace(
        "text: \"{{ t['greeting.title'] }}\"", f'text: "{escape}"', 1
    ).encode()
    assert files["scenes/scenes.yaml"].decode() != spec
    bundle = bundle_from_files(services, "bill-explainer", files, 2)
    greeting_time = 2.5  # the intro lasts 2 s; the greeting follows
    with pytest.raises(Exception, match=r"unsafe|not safely|undefined|has no attribute"):
        Previews().frame_at(bundle, "pay", "en", "16:9", greeting_time)
