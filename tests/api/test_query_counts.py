"""Listing conversations costs a fixed number of queries, however many rows it shows:
an N+1 regression fails here loudly."""

from contextlib import contextmanager

from sqlalchemy import event

from tests.factories import key


@contextmanager
def count_queries(engine):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _list_queries(live, supervisor):
    with count_queries(live.svc.db.read_engine) as statements:
        response = await supervisor.get("/api/v1/conversations", params={"limit": 200})
    assert response.status_code == 200
    return len(response.json()), len(statements)


async def test_listing_conversations_has_no_n_plus_one(live):
    supervisor = await live.agent("Sara", ["supervisor"], online=False)
    agents = [await live.agent(f"Agent {i}", ["customer_support"], max_chats=2) for i in range(3)]

    async def open_some(count, start):
        for i in range(start, start + count):
            customer = await live.customer(portal=f"p{i}", user="admin")
            opened = await customer.post(
                "/api/v1/conversations", {"body": f"q{i}", "client_key": key()}
            )
            assert opened.status_code == 201

    await open_some(2, 0)
    small = await _list_queries(live, supervisor)
    await open_some(8, 2)  # more rows: assigned to three agents, some waiting
    first = (await supervisor.get("/api/v1/conversations")).json()[-1]
    await agents[0].post(f"/api/v1/conversations/{first['id']}/resolve")
    large = await _list_queries(live, supervisor)
    assert (small[0], large[0]) == (2, 10)
    # The larger list adds kinds of rows (a rated one: +1 query; waiting ones: +2 for queue
    # positions), but eight more rows must not add a query each.
    assert large[1] <= small[1] + 3
