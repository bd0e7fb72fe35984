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
            Format::Iban => {
                "IBAN: the country code, 2 check digits, up to 30 letters and digits".into()
            }
            Format::OneOf(words) => format!("one of {}", words.join(", ")),
        }
    }

    /// None when `value` fits.
    pub fn check(self, value: &str, country: &str) -> Option<String> {
        let ok = match self {
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
            Format::Iban => {
                value.len() >= 15
                    && value.len() <= 34
                    && value.starts_with(country)
                    && value.bytes().skip(2).take(2).all(|c| c.is_ascii_digit())
                    && value
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            }
            Format::OneOf(words) => words.contains(&value),
        };
        (!ok).then(|| format!("must be {}", self.describe()))
    }
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
const IBAN: FieldSpec = field("iban", "IBAN", Format::Iban, "DE89370400440532013000");
const ADDRESS: FieldSpec = field(
    "address",
    "Beneficiary address",
    Format::Text,
    "1 Example Street",
)
.optional();

const EU_FIELDS: &[FieldSpec] = &[NAME, IBAN, SWIFT_REQ, BANK, ADDRESS];

/// A euro-area country: EUR accounts with the IBAN fields.
const fn eurozone(code: &'static str, name: &'static str) -> Country {
    Country {
        code,
        name,
        currencies: &["EUR"],
        fields: EU_FIELDS,
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
    eurozone("DE", "Germany"),
    eurozone("FR", "France"),
    eurozone("NL", "Netherlands"),
    eurozone("IT", "Italy"),
    eurozone("ES", "Spain"),
    eurozone("IE", "Ireland"),
    eurozone("BE", "Belgium"),
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
