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
        };
        (!ok).then(|| format!("must be {}", self.describe()))
    }
}

pub struct Country {
    pub code: &'static str,
    pub name: &'static str,
    pub currencies: &'static [&'static str],
    pub fields: &'static [FieldSpec],
}

const NAME: FieldSpec = FieldSpec {
    name: "accountName",
    label: "Account holder name",
    required: true,
    format: Format::Text,
    example: "Example Trading Ltd",
};
const BANK: FieldSpec = FieldSpec {
    name: "bankName",
    label: "Bank name",
    required: true,
    format: Format::Text,
    example: "Example Bank",
};
const SWIFT_REQ: FieldSpec = FieldSpec {
    name: "swiftCode",
    label: "SWIFT/BIC",
    required: true,
    format: Format::Swift,
    example: "EXAMHKHH",
};
const SWIFT_OPT: FieldSpec = FieldSpec {
    name: "swiftCode",
    label: "SWIFT/BIC",
    required: false,
    format: Format::Swift,
    example: "EXAMUS33",
};
const IBAN: FieldSpec = FieldSpec {
    name: "iban",
    label: "IBAN",
    required: true,
    format: Format::Iban,
    example: "DE89370400440532013000",
};
const ADDRESS: FieldSpec = FieldSpec {
    name: "address",
    label: "Beneficiary address",
    required: false,
    format: Format::Text,
    example: "1 Example Street",
};

const EU_FIELDS: &[FieldSpec] = &[NAME, IBAN, SWIFT_REQ, BANK, ADDRESS];

pub const COUNTRIES: &[Country] = &[
    Country {
        code: "CN",
        name: "China (mainland)",
        currencies: &["CNY"],
        fields: &[
            NAME,
            FieldSpec {
                name: "accountNo",
                label: "Account number",
                required: true,
                format: Format::Digits(8, 30),
                example: "6222020200112345678",
            },
            BANK,
            FieldSpec {
                name: "cnapsCode",
                label: "CNAPS bank code",
                required: true,
                format: Format::Digits(12, 12),
                example: "102100099996",
            },
            FieldSpec {
                name: "idNo",
                label: "Resident ID or unified social credit code",
                required: false,
                format: Format::Text,
                example: "91350200MA2Y000000",
            },
        ],
    },
    Country {
        code: "HK",
        name: "Hong Kong SAR",
        currencies: &["HKD", "USD", "CNY"],
        fields: &[
            NAME,
            FieldSpec {
                name: "accountNo",
                label: "Account number",
                required: true,
                format: Format::Digits(6, 16),
                example: "012345678901",
            },
            BANK,
            FieldSpec {
                name: "bankCode",
                label: "Bank code",
                required: true,
                format: Format::Digits(3, 3),
                example: "004",
            },
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
            FieldSpec {
                name: "accountNo",
                label: "Account number",
                required: true,
                format: Format::Digits(4, 17),
                example: "000123456789",
            },
            FieldSpec {
                name: "routingNo",
                label: "ABA routing number",
                required: true,
                format: Format::Digits(9, 9),
                example: "021000021",
            },
            FieldSpec {
                name: "accountType",
                label: "CHECKING or SAVINGS",
                required: false,
                format: Format::Text,
                example: "CHECKING",
            },
            BANK,
            SWIFT_OPT,
            FieldSpec {
                name: "address",
                label: "Beneficiary address",
                required: true,
                format: Format::Text,
                example: "1 Example Street, New York, NY",
            },
        ],
    },
    Country {
        code: "GB",
        name: "United Kingdom",
        currencies: &["GBP", "EUR", "USD"],
        fields: &[
            NAME,
            FieldSpec {
                name: "accountNo",
                label: "Account number",
                required: true,
                format: Format::Digits(8, 8),
                example: "31926819",
            },
            FieldSpec {
                name: "sortCode",
                label: "Sort code",
                required: true,
                format: Format::Digits(6, 6),
                example: "601613",
            },
            BANK,
            SWIFT_OPT,
            ADDRESS,
        ],
    },
    Country {
        code: "DE",
        name: "Germany",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
    Country {
        code: "FR",
        name: "France",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
    Country {
        code: "NL",
        name: "Netherlands",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
    Country {
        code: "IT",
        name: "Italy",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
    Country {
        code: "ES",
        name: "Spain",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
    Country {
        code: "IE",
        name: "Ireland",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
    Country {
        code: "BE",
        name: "Belgium",
        currencies: &["EUR"],
        fields: EU_FIELDS,
    },
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
