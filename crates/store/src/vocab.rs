//! The closed sets of words the database stores in text columns (statuses, sources),
//! as Rust enums. Each is written and read through its one spelling here, and a
//! stored word outside the set is reported as corrupt data rather than guessed at.

/// Declares an enum stored as text: `as_str`, `FromStr`, `Display` and serde all use
/// the given spellings.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        concat!("'{}' is not a ", stringify!($name), " (one of: {})"),
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Reads a stored word, naming the row when it is not one of the set.
pub(crate) fn parse<T: std::str::FromStr<Err = String>>(
    text: &str,
    what: &str,
) -> Result<T, crate::StoreError> {
    text.parse()
        .map_err(|e| crate::StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    text_enum! {
        /// A test set.
        pub enum Colour { Red => "red", DarkBlue => "dark_blue" }
    }

    #[test]
    fn spellings_round_trip_and_strangers_are_named() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>().unwrap(), *c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), *c);
        }
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        let e = "green".parse::<Colour>().unwrap_err();
        assert!(e.contains("'green'") && e.contains("red, dark_blue"), "{e}");
        assert!(super::parse::<Colour>("green", "row 7").is_err());
    }
}
