"""The stage table (monolith/strangler/stages.py) and everything that must agree with it.

The facade's route files (proxy/routes/stage-<N>.conf) are read as nginx reads them, location by
location; the monolith's forwarding middleware, its selectors, `set_stage` and `shopctl` read the
table itself, so here only their view of it is checked.
"""

import re

import pytest

from monolith.strangler import gate, stages
from monolith.strangler.management.commands import set_stage
from shopctl import ShopError, nginx, stack

TEMPLATE = nginx.TEMPLATE.read_text()


@pytest.mark.parametrize("stage", stages.STAGES)
def test_each_stage_s_route_file_routes_exactly_what_the_table_says(stage):
    assert nginx.routes_in(nginx.route_file(stage)) == stages.routes(stage)


def test_there_is_a_route_file_for_every_stage_and_no_other():
    assert sorted(path.name for path in nginx.ROUTES.iterdir()) == [f"stage-{stage}.conf" for stage in stages.STAGES]


@pytest.mark.parametrize("stage", stages.STAGES)
def test_a_route_file_holds_location_blocks_only(stage):
    code = "\n".join(line.split("#", 1)[0] for line in nginx.route_file(stage).read_text().splitlines())
    # Everything that is not a comment is one of the routes routes_in() read.
    assert not re.sub(r"location\s+\S+\s*\{\s*proxy_pass\s+http://[\w-]+\s*;\s*\}", "", code).strip()


def test_the_template_declares_every_upstream_a_route_names_and_includes_the_stage_s_routes():
    services = {service for stage in stages.STAGES for service in stages.routes(stage).values()}
    for upstream in services | {stages.MONOLITH}:
        assert re.search(rf"^\s*upstream {upstream} \{{", TEMPLATE, re.MULTILINE), upstream
    assert "include routes/stage-${SHOP_STAGE}.conf;" in TEMPLATE


def test_a_route_file_that_disagrees_with_the_table_stops_the_facade_from_rendering(tmp_path, monkeypatch):
    routes = tmp_path / "routes"
    routes.mkdir()
    (routes / "stage-1.conf").write_text("location /api/payments/ {\n    proxy_pass http://payments;\n}\n")
    monkeypatch.setattr(nginx, "ROUTES", routes)

    with pytest.raises(ShopError, match=r"stage-1\.conf routes .*/api/payments/.* the stage table"):
        nginx.render(tmp_path / "nginx", 1, stack.DEFAULT_ADDRESSES)
    assert not (tmp_path / "nginx" / "nginx.conf").exists()


def test_the_table_as_the_contract_states_it():
    assert {stage: stages.routes(stage) for stage in stages.STAGES} == {
        0: {},
        1: {"/api/catalog/": "catalog"},
        2: {"/api/catalog/": "catalog", "/api/payments/": "payments"},
    }
    assert [stages.owner("catalog", stage) for stage in stages.STAGES] == ["monolith", "catalog", "catalog"]
    assert [stages.owner("payments", stage) for stage in stages.STAGES] == ["monolith", "monolith", "payments"]
    with pytest.raises(ValueError):
        stages.routes(3)


def test_everything_reads_the_one_table():
    assert {stage: stages.routes(stage) for stage in stages.STAGES} == stack.STAGE_ROUTES
    assert set_stage.BUILT_STAGES == stages.STAGES
    # set_stage moves, at each step, the context whose owner changes between the two stages.
    for low in stages.STAGES[:-1]:
        moving = stages.moving_at(low)
        assert stages.owner(moving.name, low) != stages.owner(moving.name, low + 1)
        assert moving.name in set_stage.MOVES and moving.name in gate.BY_CONTEXT


def test_each_stage_needs_the_facade_the_monolith_and_only_the_services_it_routes_to():
    assert stack.needed(0) == ["facade", "monolith"]
    assert stack.needed(1) == ["facade", "monolith", "catalog", "relay"]
    assert stack.needed(2) == stack.processes()
