def test_analyst_logs_item_and_supervisor_approves_it(api, analyst, supervisor, case, platform_a):
    a = api(analyst)
    res = a.post("/api/v1/items/", {"case": case.pk, "url": "https://www.tube.example/watch?v=1", "kind": "post",
                                    "categories": ["incitement"]}, format="json")
    assert res.status_code == 201, res.json()
    assert res.json()["platform"] == "tube"
    item_id = res.json()["id"]
    assert a.post(f"/api/v1/items/{item_id}/propose/").json()["status"] == "proposed"
    res = api(supervisor).post(f"/api/v1/items/{item_id}/approve/", {"instrument": "referral"}, format="json")
    assert res.status_code == 200, res.json()
    assert res.json()["status"] == "approved"
    assert len(res.json()["referrals"]) == 1
