//! The payout destinations the simulator offers: per country, its name, the currencies a
//! beneficiary account there may hold, and the bank fields it needs with their formats.
//! `beneficiaryCountryQuery` and `beneficiaryFieldsQuery` read this table; Benificiary Account
//! Apply checks against it. The formats are the real national ones (ABA routing 9 digits, UK sort
//! code 6 digits, IBAN, SWIFT/BIC, CNAPS 12 digits); the banks behind them are simulated.

use serde_json::{json, Value};

/// One bank field: wire name, label, required, a description of the format, an example.
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub required: bool,
    pub format: Format,
    pub example: &'static str,
}

#[derive(Clone, Copy)]
pub enum Format {
    /// Free text of 1–128 characters.
    Text,
    /// Exactly / between n digits.
    Digits(usize, usize),
    /// SWIFT/BIC: 8 or 11 letters and digits.
    Swift,
    /// IBAN starting with the country code.
    Iban,
    /// One of a fixed list of words (an account type), spelled exactly.
    OneOf(&'static [&'static str]),
}

impl Format {
    pub fn describe(self) -> String {
        match self {
            Format::Text => "text, 1 to 128 characters".into(),
            Format::Digits(a, b) if a == b => format!("{a} digits"),
            Format::Digits(a, b) => format!("{a} to {b} digits"),
            Format::Swift => "SWIFT/BIC, 8 or 11 letters and digits".into(),
            Format::Iban => "IBAN (ISO 13616) of the account's country: its country code, 2 \
                             check digits (mod 97), then up to 30 letters and digits"
                .into(),
            Format::OneOf(words) => format!("one of {}", words.join(", ")),
        }
    }

    /// None when `value` fits, else what is wrong (`must be …`).
    pub fn check(self, value: &str, country: &str) -> Option<String> {
        let ok = match self {
            Format::Iban => return iban_problem(value, country),
            Format::Text => (1..=128).contains(&value.chars().count()),
            Format::Digits(a, b) => {
                (a..=b).contains(&value.len()) && value.bytes().all(|c| c.is_ascii_digit())
            }
            Format::Swift => {
                (value.len() == 8 || value.len() == 11)
                    && value
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            }
            Format::OneOf(words) => words.contains(&value),
        };
        (!ok).then(|| format!("must be {}", self.describe()))
    }
}

/// The length ISO 13616 (the SWIFT IBAN registry) fixes for the IBANs of each country whose
/// accounts carry one here.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("DE", 22),
    ("FR", 27),
    ("NL", 18),
    ("IT", 27),
    ("ES", 24),
    ("IE", 22),
    ("BE", 16),
];

/// What is wrong with `value` as the IBAN of an account in `country`, one problem at a time
/// (the first that holds): its shape, its country code (an IBAN of another country is named as
/// such), the country's length, and the ISO 13616 check digits (mod 97 of the rearranged
/// number is 1), naming the digits that would fit.
fn iban_problem(value: &str, country: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let shaped = (15..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !shaped {
        return Some(format!("must be {}", Format::Iban.describe()));
    }
    let (code, check) = (&value[..2], &value[2..4]);
    if code != country {
        return Some(format!(
            "must start with {country}, the country code of the account (an IBAN of {country}); \
             it starts with {code}"
        ));
    }
    if let Some((_, length)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) {
        if value.len() != *length {
            return Some(format!(
                "must have {length} characters, as every IBAN of {country}; it has {}",
                value.len()
            ));
        }
    }
    let expected = iban_check_digits(value);
    (check != expected).then(|| {
        format!(
            "has check digits {check} that fail the ISO 13616 mod-97 check; for the rest of \
             this IBAN they are {expected}"
        )
    })
}

/// The ISO 13616 check digits of `iban` (shaped: 2 letters, 2 digits, letters and digits):
/// 98 − (the account part, then the country code, then `00`, letters as 10–35) mod 97.
fn iban_check_digits(iban: &str) -> String {
    let rearranged = iban[4..].bytes().chain(iban[..2].bytes()).chain(*b"00");
    let rest = rearranged.fold(0u32, |acc, b| {
        let (value, width) = match b {
            b'0'..=b'9' => (u32::from(b - b'0'), 10),
            _ => (u32::from(b - b'A') + 10, 100),
        };
        (acc * width + value) % 97
    });
    format!("{:02}", 98 - rest)
}

/// A field the country's accounts must carry ([`FieldSpec::optional`] for one they may carry).
const fn field(
    name: &'static str,
    label: &'static str,
    format: Format,
    example: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        required: true,
        format,
        example,
    }
}

impl FieldSpec {
    /// The field, one the country's accounts may leave out.
    const fn optional(self) -> Self {
        Self {
            required: false,
            ..self
        }
    }
}

pub struct Country {
    pub code: &'static str,
    pub name: &'static str,
    pub currencies: &'static [&'static str],
    pub fields: &'static [FieldSpec],
}

const NAME: FieldSpec = field(
    "accountName",
    "Account holder name",
    Format::Text,
    "Example Trading Ltd",
);
const BANK: FieldSpec = field("bankName", "Bank name", Format::Text, "Example Bank");
const SWIFT_REQ: FieldSpec = field("swiftCode", "SWIFT/BIC", Format::Swift, "EXAMHKHH");
const SWIFT_OPT: FieldSpec = field("swiftCode", "SWIFT/BIC", Format::Swift, "EXAMUS33").optional();
const ADDRESS: FieldSpec = field(
    "address",
    "Beneficiary address",
    Format::Text,
    "1 Example Street",
)
.optional();

/// The fields of a euro-area account, with a valid IBAN of its country as the example (an
/// example the country's accounts would refuse would mislead: a unit test checks each).
const fn eu_fields(iban_example: &'static str) -> [FieldSpec; 5] {
    [
        NAME,
        field("iban", "IBAN", Format::Iban, iban_example),
        SWIFT_REQ,
        BANK,
        ADDRESS,
    ]
}

const DE_FIELDS: [FieldSpec; 5] = eu_fields("DE89370400440532013000");
const FR_FIELDS: [FieldSpec; 5] = eu_fields("FR1420041010050500013M02606");
const NL_FIELDS: [FieldSpec; 5] = eu_fields("NL91ABNA0417164300");
const IT_FIELDS: [FieldSpec; 5] = eu_fields("IT60X0542811101000000123456");
const ES_FIELDS: [FieldSpec; 5] = eu_fields("ES9121000418450200051332");
const IE_FIELDS: [FieldSpec; 5] = eu_fields("IE29AIBK93115212345678");
const BE_FIELDS: [FieldSpec; 5] = eu_fields("BE68539007547034");

/// A euro-area country: EUR accounts with the IBAN fields.
const fn eurozone(code: &'static str, name: &'static str, fields: &'static [FieldSpec]) -> Country {
    Country {
        code,
        name,
        currencies: &["EUR"],
        fields,
    }
}

pub const COUNTRIES: &[Country] = &[
    Country {
        code: "CN",
        name: "China (mainland)",
        currencies: &["CNY"],
        fields: &[
            NAME,
            field(
                "accountNo",
                "Account number",
                Format::Digits(8, 30),
                "6222020200112345678",
            ),
            BANK,
            field(
                "cnapsCode",
                "CNAPS bank code",
                Format::Digits(12, 12),
                "102100099996",
            ),
            field(
                "idNo",
                "Resident ID or unified social credit code",
                Format::Text,
                "91350200MA2Y000000",
            )
            .optional(),
        ],
    },
    Country {
        code: "HK",
        name: "Hong Kong SAR",
        currencies: &["HKD", "USD", "CNY"],
        fields: &[
            NAME,
            field(
                "accountNo",
                "Account number",
                Format::Digits(6, 16),
                "012345678901",
            ),
            BANK,
            field("bankCode", "Bank code", Format::Digits(3, 3), "004"),
            SWIFT_REQ,
            ADDRESS,
        ],
    },
    Country {
        code: "US",
        name: "United States",
        currencies: &["USD"],
        fields: &[
            NAME,
            field(
                "accountNo",
                "Account number",
                Format::Digits(4, 17),
                "000123456789",
            ),
            field(
                "routingNo",
                "ABA routing number",
                Format::Digits(9, 9),
                "021000021",
            ),
            field(
                "accountType",
                "Account type",
                Format::OneOf(&["CHECKING", "SAVINGS"]),
                "CHECKING",
            )
            .optional(),
            BANK,
            SWIFT_OPT,
            field(
                "address",
                "Beneficiary address",
                Format::Text,
                "1 Example Street, New York, NY",
            ),
        ],
    },
    Country {
        code: "GB",
        name: "United Kingdom",
        currencies: &["GBP", "EUR", "USD"],
        fields: &[
            NAME,
            field(
                "accountNo",
                "Account number",
                Format::Digits(8, 8),
                "31926819",
            ),
            field("sortCode", "Sort code", Format::Digits(6, 6), "601613"),
            BANK,
            SWIFT_OPT,
            ADDRESS,
        ],
    },
    eurozone("DE", "Germany", &DE_FIELDS),
    eurozone("FR", "France", &FR_FIELDS),
    eurozone("NL", "Netherlands", &NL_FIELDS),
    eurozone("IT", "Italy", &IT_FIELDS),
    eurozone("ES", "Spain", &ES_FIELDS),
    eurozone("IE", "Ireland", &IE_FIELDS),
    eurozone("BE", "Belgium", &BE_FIELDS),
];

pub fn country(code: &str) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.code == code)
}

pub fn country_view(c: &Country) -> Value {
    json!({"country": c.code, "countryName": c.name, "currencies": c.currencies})
}

pub fn field_view(f: &FieldSpec) -> Value {
    json!({
        "field": f.name,
        "fieldName": f.label,
        "required": if f.required { "Y" } else { "N" },
        "format": f.format.describe(),
        "example": f.example,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example of a field fits its country's check (the IBANs valid ones of their
    /// country), and every country whose accounts carry an IBAN has its length in the table.
    #[test]
    fn every_example_is_accepted_by_its_country() {
        for k in COUNTRIES {
            for f in k.fields {
                assert_eq!(
                    f.format.check(f.example, k.code),
                    None,
                    "{} {}",
                    k.code,
                    f.name
                );
                if matches!(f.format, Format::Iban) {
                    assert!(IBAN_LENGTHS.iter().any(|(c, _)| *c == k.code), "{}", k.code);
                }
            }
        }
    }

    /// An IBAN of another country, of the wrong length or with wrong check digits is refused
    /// naming that problem.
    #[test]
    fn an_iban_is_refused_naming_its_problem() {
        let check = |v: &str, country: &str| Format::Iban.check(v, country);
        assert_eq!(check("DE89370400440532013000", "DE"), None);
        assert_eq!(check("GB29NWBK60161331926819", "DE").as_deref(), Some(
            "must start with DE, the country code of the account (an IBAN of DE); it starts with GB"
        ));
        assert_eq!(check("DE89370400440532013001", "DE").as_deref(), Some(
            "has check digits 89 that fail the ISO 13616 mod-97 check; for the rest of this IBAN \
             they are 62"
        ));
        assert_eq!(
            check("DE8937040044053201300", "DE").as_deref(),
            Some("must have 22 characters, as every IBAN of DE; it has 21")
        );
        for shapeless in [
            "de89370400440532013000",
            "D189370400440532013000",
            "DEX9370400440532013000",
            "DE89",
        ] {
            assert!(
                check(shapeless, "DE").unwrap().starts_with("must be IBAN"),
                "{shapeless}"
            );
        }
        assert_eq!(iban_check_digits("GB00NWBK60161331926819"), "29");
        assert_eq!(iban_check_digits("BE00539007547034"), "68");
    }
}
