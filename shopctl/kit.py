"""What the comparison kit's commands (`shop compare`, `shop exercise`) share: a fresh shop of their own.

Each measured shop starts from nothing, so that every stage is measured on data seeded alike: a
new run folder (its own private PostgreSQL, initdb'd and seeded by `shop up`), free ports, so it
never collides with the class's shop on the contract's ports, and only the processes the stage
serves with (stack.needed), so that CPU and memory compare like with like. The facade's rate
limits are lifted: the kit loads the shop from one address on purpose.

    with fresh_shop(2, Path("results/x/stage-2")) as shop:
        requests.get(shop.url + "api/catalog/products/")
"""

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from shopctl import ShopError, nginx, postgres, stack
from shopctl.background import BackgroundShop

READY_WITHIN = 180  # seconds: initdb, migrations, seeding and, from stage 1 on, the data moves


@contextlib.contextmanager
def fresh_shop(
    stage: int,
    folder: Path,
    *,
    names: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[BackgroundShop]:
    """`shop up --stage <stage>` in folder (its run folder folder/run, its output folder/shop.log),
    ready to serve; stopped, with its database, when the block ends.

    names: the processes to run (default: those the stage needs); env: more variables for it."""
    folder.mkdir(parents=True, exist_ok=True)
    addresses = {f"{name.upper()}_ADDR": stack.free_address() for name in stack.DEFAULT_ADDRESSES}
    shop = BackgroundShop(
        list(names) or stack.needed(stage),
        stage=stage,
        env={**nginx.UNLIMITED, **addresses, "SHOP_RUN_DIR": str(folder / "run"), **(env or {})},
        # Its own databases in its own cluster, never the caller's.
        without=postgres.DATABASES,
        log_path=folder / "shop.log",
    )
    with shop:
        shop.wait_until_ready(timeout=READY_WITHIN)
        for name in stack.servers(shop.names):
            _wait_for(f"http://{stack.address(name, shop.env)}/readyz")
        yield shop


def _wait_for(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not stack.answers(url):
        if time.monotonic() > deadline:
            raise ShopError(f"{url} did not answer 200 within {within:.0f} s.")
        time.sleep(0.25)
