from tests.factories import key


async def test_health_and_open(live):
    assert (await live.http.get("/healthz")).json()["status"] == "ok"
    customer = await live.customer()
    response = await customer.post("/api/v1/conversations", {"body": "hello", "client_key": key()})
    assert response.status_code == 201, response.text
