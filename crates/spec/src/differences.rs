//! What differs between two specs, named the way a person reads a spec: objects,
//! fields, state flows, pages, roles and menu items that one has and the other lacks
//! or defines differently. Used to explain why a stored live spec is not what the
//! base CRM and the published modules compose to.

use crate::{MenuNode, Spec};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a thing was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    OnlyInFirst,
    OnlyInSecond,
    /// In both, defined differently.
    Differs,
}

/// One difference: the thing (`object 'Campaign'`, `field Customer.email`) and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub thing: String,
    pub side: Side,
}

impl Difference {
    /// In words, calling the two specs by the given names:
    /// `object 'Campaign' is only in the stored spec`.
    pub fn describe(&self, first: &str, second: &str) -> String {
        match self.side {
            Side::OnlyInFirst => format!("{} is only in {first}", self.thing),
            Side::OnlyInSecond => format!("{} is only in {second}", self.thing),
            Side::Differs => format!("{} differs", self.thing),
        }
    }
}

/// Every difference between two specs, objects first.
pub fn differences(first: &Spec, second: &Spec) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |thing: String, side| out.push(Difference { thing, side });
    for name in keys(&first.objects, &second.objects) {
        match (first.objects.get(name), second.objects.get(name)) {
            (Some(_), None) => push(format!("object '{name}'"), Side::OnlyInFirst),
            (None, Some(_)) => push(format!("object '{name}'"), Side::OnlyInSecond),
            (Some(a), Some(b)) => {
                compare(&mut push, &format!("field {name}."), &a.fields, &b.fields);
                if json(&a.state_flow) != json(&b.state_flow) {
                    push(format!("the state flow of {name}"), Side::Differs);
                }
                let (mut a, mut b) = (a.clone(), b.clone());
                a.fields.clear();
                b.fields.clear();
                a.state_flow = None;
                b.state_flow = None;
                if a != b {
                    push(format!("the definition of object {name}"), Side::Differs);
                }
            }
            (None, None) => {}
        }
    }
    compare(&mut push, "page ", &first.pages, &second.pages);
    compare(&mut push, "role ", &first.roles, &second.roles);
    let (ma, mb) = (menu_items(&first.menus), menu_items(&second.menus));
    compare(&mut push, "menu item ", &ma, &mb);
    out
}

fn keys<'a, V>(a: &'a BTreeMap<String, V>, b: &'a BTreeMap<String, V>) -> Vec<&'a String> {
    let mut k: Vec<&String> = a.keys().chain(b.keys()).collect();
    k.sort();
    k.dedup();
    k
}

fn json(v: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn compare<V: Serialize>(
    push: &mut impl FnMut(String, Side),
    what: &str,
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
) {
    for k in keys(a, b) {
        match (a.get(k), b.get(k)) {
            (Some(_), None) => push(format!("{what}'{k}'"), Side::OnlyInFirst),
            (None, Some(_)) => push(format!("{what}'{k}'"), Side::OnlyInSecond),
            (Some(x), Some(y)) if json(x) != json(y) => push(format!("{what}'{k}'"), Side::Differs),
            _ => {}
        }
    }
}

/// Menu items by id, each without its children (a child's change is its own).
fn menu_items(nodes: &[MenuNode]) -> BTreeMap<String, MenuNode> {
    let mut out = BTreeMap::new();
    fn walk(nodes: &[MenuNode], parent: Option<&str>, out: &mut BTreeMap<String, MenuNode>) {
        for (i, n) in nodes.iter().enumerate() {
            let mut flat = n.clone();
            flat.children.clear();
            // Position and parent are part of an item's place in the menu.
            flat.label = format!("{} @{}/{i}", flat.label, parent.unwrap_or(""));
            out.insert(n.id.clone(), flat);
            walk(&n.children, Some(&n.id), out);
        }
    }
    walk(nodes, None, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base_spec;

    #[test]
    fn equal_specs_have_no_differences() {
        assert!(differences(&base_spec(), &base_spec()).is_empty());
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        let a = base_spec();
        let mut b = base_spec();
        let customer = b.objects.get_mut("Customer").unwrap();
        let email = customer.fields.remove("email").unwrap();
        customer.fields.insert("points".into(), email.clone());
        customer.label = "Client".into();
        b.objects.get_mut("Order").unwrap().state_flow = None;
        let campaign = b.objects["Customer"].clone();
        b.objects.insert("Campaign".into(), campaign);
        b.pages.remove("customer.list");
        b.roles.get_mut("sales").unwrap().label = "Sellers".into();
        b.menus[0].children.reverse();
        let d: Vec<String> = differences(&a, &b)
            .iter()
            .map(|d| d.describe("A", "B"))
            .collect();
        for expected in [
            "object 'Campaign' is only in B",
            "field Customer.'email' is only in A",
            "field Customer.'points' is only in B",
            "the definition of object Customer differs",
            "the state flow of Order differs",
            "page 'customer.list' is only in A",
            "role 'sales' differs",
        ] {
            assert!(d.iter().any(|x| x == expected), "{expected} in {d:#?}");
        }
        assert!(d.iter().any(|x| x.starts_with("menu item ")), "{d:#?}");
        assert!(
            differences(&b, &a)
                .iter()
                .any(|x| x.describe("A", "B") == "object 'Campaign' is only in A")
        );
    }
}
