//! Modules between instances: two servers with their own databases, a bundle signed
//! on one, trusted and imported on the other, and taken through the lifecycle there.

use crate::harness::{error_of, json_of, spawn};
use crate::preview::module_with;
use crate::publishing::{approve, publish, user};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_module_goes_from_one_instance_to_another_and_through_its_lifecycle_there() {
    let (a, b) = (spawn().await, spawn().await);
    let (admin_a, admin_b) = (a.admin().await, b.admin().await);

    // On A: a module written by the offline engine, exported as a signed bundle.
    let id_a = module_with(
        &admin_a,
        "add an integer field loyaltyPoints to Customer with default 0 and min 0",
    )
    .await;
    let id_a = id_a.as_str();
    let bundle = admin_a
        .get_json(&format!("/api/modules/{id_a}/export?version=1"))
        .await;
    assert_eq!(bundle["format"], "modgate.bundle/v1");
    assert_eq!(bundle["module"]["name"], "Loyalty");
    assert_eq!(bundle["provenance"]["source"], "ai");
    assert!(bundle["signature"].as_str().unwrap().len() > 80);
    assert!(!bundle.to_string().contains("sk-"), "no keys in a bundle");
    let instance_a = admin_a.get_json("/api/instance").await;
    assert_eq!(bundle["signer"]["publicKey"], instance_a["publicKey"]);

    // On B: not trusted yet, so refused, and nothing stored.
    let import = |body: &Value| admin_b.post("/api/modules/import").json(body).send();
    let (status, code, body) = error_of(import(&bundle).await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "untrusted_key")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(instance_a["fingerprint"].as_str().unwrap())
    );
    assert!(
        admin_b.get_json("/api/modules").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    json_of(
        admin_b
            .post("/api/trusted-keys")
            .json(&json!({ "name": "development", "publicKey": instance_a["publicKey"] }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    // Changed after signing: refused, nothing stored.
    let mut tampered = bundle.clone();
    tampered["version"]["patch"]["operations"][0]["value"]["min"] = json!(-100);
    let (status, code, _) = error_of(import(&tampered).await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "tampered")
    );
    assert!(
        admin_b.get_json("/api/modules").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, code, _) = error_of(import(&json!({ "format": "zip" })).await.unwrap()).await;
    assert_eq!(code, "bad_bundle");

    let imported = json_of(import(&bundle).await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(imported["created"], true);
    let id_b = imported["moduleId"].as_str().unwrap().to_owned();
    let v = &imported["version"];
    assert_eq!(v["number"], 1);
    assert_eq!(v["valid"], true);
    assert_eq!(v["imported"]["origin"]["moduleId"], id_a);
    assert_eq!(v["imported"]["signer"]["trustedAs"], "development");
    assert_eq!(v["imported"]["author"], "admin");
    assert_eq!(v["source"], "import");
    // Read back from the store, it is still an import.
    let stored = admin_b
        .get_json(&format!("/api/modules/{id_b}/versions/1"))
        .await;
    assert_eq!(stored["source"], "import");
    let module_b = admin_b.get_json(&format!("/api/modules/{id_b}")).await;
    assert_eq!(
        module_b["status"], "draft",
        "an import is a draft: nothing is bypassed"
    );

    // The same bundle again is a new version of the same module, not a second module.
    let again = json_of(import(&bundle).await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(
        (again["created"].clone(), again["moduleId"].clone()),
        (json!(false), json!(id_b))
    );
    let v = again["version"]["number"].as_i64().unwrap();

    // Tested, reviewed by someone else and published on B.
    let rita = user(&b, &admin_b, "rita", &["reviewer"]).await;
    approve(&admin_b, &rita, &id_b, v).await;
    let r = publish(&admin_b, &id_b, v).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let c = json_of(
        admin_b
            .post("/api/data/Customer")
            .json(&json!({ "name": "Acme", "email": "a@acme.test" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["loyaltyPoints"], 0, "the module runs on B");
    // A never saw any of it.
    assert_eq!(admin_a.get_json("/api/data/Customer").await["total"], 0);
}

#[tokio::test]
async fn trusted_keys_are_checked_and_only_admins_hold_them() {
    let app = spawn().await;
    let admin = app.admin().await;
    for (body, field) in [
        (
            json!({ "name": "x", "publicKey": "not-a-key" }),
            "publicKey",
        ),
        (json!({ "name": "", "publicKey": "AAAA" }), "name"),
    ] {
        let (status, _, err) = error_of(
            admin
                .post("/api/trusted-keys")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.to_string().contains(field), "{err}");
    }
    let key = bundle::KeyPair::from_secret([9; 32]).public_b64();
    let k = json_of(
        admin
            .post("/api/trusted-keys")
            .json(&json!({ "name": "staging", "publicKey": key }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let (status, _, _) = error_of(
        admin
            .post("/api/trusted-keys")
            .json(&json!({ "name": "again", "publicKey": key }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a key is trusted once");
    let dev = user(&app, &admin, "devi", &["developer"]).await;
    assert_eq!(
        dev.get("/api/trusted-keys").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dev.get("/api/instance").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let id = k["id"].as_str().unwrap();
    assert_eq!(
        admin
            .delete(&format!("/api/trusted-keys/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.get_json("/api/trusted-keys").await["items"],
        json!([])
    );
}
