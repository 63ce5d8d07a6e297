async def test_token_and_empty_list(api):
    answer = await api.get("/accounts")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25}, "account": []}
