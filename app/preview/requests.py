"""A full preview video of a version, asked for by the studio or the API: a render of a
synthetic sample bill, queued on the on-demand queue like a customer's click, stamped
PREVIEW on every frame by the render job (`purpose="preview"`), with no webhook and in no
billing run."""

from __future__ import annotations

from app.delivery.links import new_token
from app.infra.database import Render, new_id
from app.infra.services import Services
from app.preview.samples import check_locale, sample_bill
from renderers.templates import TemplateBundle

SAMPLE_CUSTOMER = "SAMPLE"  # the customer id of every preview: no real customer's


def request_preview_video(
    services: Services,
    bundle: TemplateBundle,
    *,
    version_id: str,
    ending: str,
    locale: str,
    account: str,
) -> str:
    """Queue the preview video of sample `ending` in `locale`; returns its render id."""
    check_locale(bundle, locale)
    render = Render(
        id=new_id("rnd"), api_key_id=account, token=new_token(), template=bundle.name,
        template_version=bundle.versioned_name, template_version_id=version_id,
        outputs=["video"], customer_id=SAMPLE_CUSTOMER, bill=sample_bill(ending, locale),
        status="queued", purpose="preview",
    )  # fmt: skip
    with services.db.session() as session:
        session.add(render)
    if services.queue is not None:
        services.queue.enqueue(render.id, "ondemand")
    return render.id
