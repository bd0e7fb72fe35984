//! ISO 3166-1 country codes: the one check behind every country field of every surface
//! (Whalet `countryCode`, platform `legalEntity.countryCode` and `payerCountryCode`, Infinia
//! `country`, Pockyt `countryCode` and `accountCountry`...). A provider refuses a code that
//! ISO 3166-1 does not assign (`XX`, `UK`, `XYZ`), so the simulator does too, rather than
//! checking the shape alone.
//!
//! The table holds the 249 officially assigned codes only; user-assigned (`XK`, `XA`..`XZ`,
//! `AA`, `QM`..`QZ`, `ZZ`) and exceptionally or transitionally reserved ones (`UK`, `EU`, `UN`,
//! `AN`) are refused: docs/FIDELITY.md records the choice.

/// Which code lengths a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Two letters only (`CN`).
    Alpha2,
    /// Two or three letters (`CN` or `CHN`).
    Alpha2Or3,
}

/// Why a value is no country code, so each surface can word its refusal in its own form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Not a code's shape: two (or, where taken, three) upper-case ASCII letters.
    Shape,
    /// The right shape, but ISO 3166-1 assigns no such code.
    Unassigned,
}

/// Checks `code` against ISO 3166-1 in `form`: `Fault::Shape` before `Fault::Unassigned`, so
/// a lower-case `cn` is told its letter case, not that it does not exist.
pub fn check(code: &str, form: Form) -> Result<(), Fault> {
    let lengths: &[usize] = match form {
        Form::Alpha2 => &[2],
        Form::Alpha2Or3 => &[2, 3],
    };
    if !lengths.contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Fault::Shape);
    }
    if alpha2(code) || alpha3(code) {
        Ok(())
    } else {
        Err(Fault::Unassigned)
    }
}

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 code (`US`, not `UK`).
pub fn alpha2(code: &str) -> bool {
    CODES.iter().any(|&(a2, _)| a2 == code)
}

/// Whether `code` is an officially assigned ISO 3166-1 alpha-3 code (`USA`, not `XYZ`).
pub fn alpha3(code: &str) -> bool {
    CODES.iter().any(|&(_, a3)| a3 == code)
}

/// The message for a well-shaped code that ISO 3166-1 does not assign, in the same words on
/// every surface: `field "XX" is not an ISO 3166-1 country code (use an assigned one, such as
/// US)`. `example` is the surface's own example code.
pub fn not_assigned(field: &str, code: &str, example: &str) -> String {
    format!(
        "{field} {code:?} is not an ISO 3166-1 country code (use an assigned one, such as {example})"
    )
}

/// The officially assigned ISO 3166-1 codes, alpha-2 with its alpha-3, in alpha-2 order
/// (taken from the ISO 3166-1 list as Debian's `iso-codes` 4.15 publishes it).
#[rustfmt::skip]
const CODES: [(&str, &str); 249] = [
    ("AD", "AND"), ("AE", "ARE"), ("AF", "AFG"), ("AG", "ATG"), ("AI", "AIA"), ("AL", "ALB"),
    ("AM", "ARM"), ("AO", "AGO"), ("AQ", "ATA"), ("AR", "ARG"), ("AS", "ASM"), ("AT", "AUT"),
    ("AU", "AUS"), ("AW", "ABW"), ("AX", "ALA"), ("AZ", "AZE"), ("BA", "BIH"), ("BB", "BRB"),
    ("BD", "BGD"), ("BE", "BEL"), ("BF", "BFA"), ("BG", "BGR"), ("BH", "BHR"), ("BI", "BDI"),
    ("BJ", "BEN"), ("BL", "BLM"), ("BM", "BMU"), ("BN", "BRN"), ("BO", "BOL"), ("BQ", "BES"),
    ("BR", "BRA"), ("BS", "BHS"), ("BT", "BTN"), ("BV", "BVT"), ("BW", "BWA"), ("BY", "BLR"),
    ("BZ", "BLZ"), ("CA", "CAN"), ("CC", "CCK"), ("CD", "COD"), ("CF", "CAF"), ("CG", "COG"),
    ("CH", "CHE"), ("CI", "CIV"), ("CK", "COK"), ("CL", "CHL"), ("CM", "CMR"), ("CN", "CHN"),
    ("CO", "COL"), ("CR", "CRI"), ("CU", "CUB"), ("CV", "CPV"), ("CW", "CUW"), ("CX", "CXR"),
    ("CY", "CYP"), ("CZ", "CZE"), ("DE", "DEU"), ("DJ", "DJI"), ("DK", "DNK"), ("DM", "DMA"),
    ("DO", "DOM"), ("DZ", "DZA"), ("EC", "ECU"), ("EE", "EST"), ("EG", "EGY"), ("EH", "ESH"),
    ("ER", "ERI"), ("ES", "ESP"), ("ET", "ETH"), ("FI", "FIN"), ("FJ", "FJI"), ("FK", "FLK"),
    ("FM", "FSM"), ("FO", "FRO"), ("FR", "FRA"), ("GA", "GAB"), ("GB", "GBR"), ("GD", "GRD"),
    ("GE", "GEO"), ("GF", "GUF"), ("GG", "GGY"), ("GH", "GHA"), ("GI", "GIB"), ("GL", "GRL"),
    ("GM", "GMB"), ("GN", "GIN"), ("GP", "GLP"), ("GQ", "GNQ"), ("GR", "GRC"), ("GS", "SGS"),
    ("GT", "GTM"), ("GU", "GUM"), ("GW", "GNB"), ("GY", "GUY"), ("HK", "HKG"), ("HM", "HMD"),
    ("HN", "HND"), ("HR", "HRV"), ("HT", "HTI"), ("HU", "HUN"), ("ID", "IDN"), ("IE", "IRL"),
    ("IL", "ISR"), ("IM", "IMN"), ("IN", "IND"), ("IO", "IOT"), ("IQ", "IRQ"), ("IR", "IRN"),
    ("IS", "ISL"), ("IT", "ITA"), ("JE", "JEY"), ("JM", "JAM"), ("JO", "JOR"), ("JP", "JPN"),
    ("KE", "KEN"), ("KG", "KGZ"), ("KH", "KHM"), ("KI", "KIR"), ("KM", "COM"), ("KN", "KNA"),
    ("KP", "PRK"), ("KR", "KOR"), ("KW", "KWT"), ("KY", "CYM"), ("KZ", "KAZ"), ("LA", "LAO"),
    ("LB", "LBN"), ("LC", "LCA"), ("LI", "LIE"), ("LK", "LKA"), ("LR", "LBR"), ("LS", "LSO"),
    ("LT", "LTU"), ("LU", "LUX"), ("LV", "LVA"), ("LY", "LBY"), ("MA", "MAR"), ("MC", "MCO"),
    ("MD", "MDA"), ("ME", "MNE"), ("MF", "MAF"), ("MG", "MDG"), ("MH", "MHL"), ("MK", "MKD"),
    ("ML", "MLI"), ("MM", "MMR"), ("MN", "MNG"), ("MO", "MAC"), ("MP", "MNP"), ("MQ", "MTQ"),
    ("MR", "MRT"), ("MS", "MSR"), ("MT", "MLT"), ("MU", "MUS"), ("MV", "MDV"), ("MW", "MWI"),
    ("MX", "MEX"), ("MY", "MYS"), ("MZ", "MOZ"), ("NA", "NAM"), ("NC", "NCL"), ("NE", "NER"),
    ("NF", "NFK"), ("NG", "NGA"), ("NI", "NIC"), ("NL", "NLD"), ("NO", "NOR"), ("NP", "NPL"),
    ("NR", "NRU"), ("NU", "NIU"), ("NZ", "NZL"), ("OM", "OMN"), ("PA", "PAN"), ("PE", "PER"),
    ("PF", "PYF"), ("PG", "PNG"), ("PH", "PHL"), ("PK", "PAK"), ("PL", "POL"), ("PM", "SPM"),
    ("PN", "PCN"), ("PR", "PRI"), ("PS", "PSE"), ("PT", "PRT"), ("PW", "PLW"), ("PY", "PRY"),
    ("QA", "QAT"), ("RE", "REU"), ("RO", "ROU"), ("RS", "SRB"), ("RU", "RUS"), ("RW", "RWA"),
    ("SA", "SAU"), ("SB", "SLB"), ("SC", "SYC"), ("SD", "SDN"), ("SE", "SWE"), ("SG", "SGP"),
    ("SH", "SHN"), ("SI", "SVN"), ("SJ", "SJM"), ("SK", "SVK"), ("SL", "SLE"), ("SM", "SMR"),
    ("SN", "SEN"), ("SO", "SOM"), ("SR", "SUR"), ("SS", "SSD"), ("ST", "STP"), ("SV", "SLV"),
    ("SX", "SXM"), ("SY", "SYR"), ("SZ", "SWZ"), ("TC", "TCA"), ("TD", "TCD"), ("TF", "ATF"),
    ("TG", "TGO"), ("TH", "THA"), ("TJ", "TJK"), ("TK", "TKL"), ("TL", "TLS"), ("TM", "TKM"),
    ("TN", "TUN"), ("TO", "TON"), ("TR", "TUR"), ("TT", "TTO"), ("TV", "TUV"), ("TW", "TWN"),
    ("TZ", "TZA"), ("UA", "UKR"), ("UG", "UGA"), ("UM", "UMI"), ("US", "USA"), ("UY", "URY"),
    ("UZ", "UZB"), ("VA", "VAT"), ("VC", "VCT"), ("VE", "VEN"), ("VG", "VGB"), ("VI", "VIR"),
    ("VN", "VNM"), ("VU", "VUT"), ("WF", "WLF"), ("WS", "WSM"), ("YE", "YEM"), ("YT", "MYT"),
    ("ZA", "ZAF"), ("ZM", "ZMB"), ("ZW", "ZWE"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_officially_assigned_list() {
        assert_eq!(CODES.len(), 249);
        for pair in CODES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "out of order or repeated: {pair:?}");
        }
        let mut alpha3s: Vec<&str> = CODES.iter().map(|&(_, a3)| a3).collect();
        alpha3s.sort_unstable();
        alpha3s.dedup();
        assert_eq!(alpha3s.len(), 249, "an alpha-3 code is repeated");
        for (a2, a3) in CODES {
            assert_eq!(a2.len(), 2, "{a2}");
            assert_eq!(a3.len(), 3, "{a3}");
            assert!(a2.bytes().chain(a3.bytes()).all(|b| b.is_ascii_uppercase()));
        }
    }

    #[test]
    fn alpha2_and_alpha3_pair_up() {
        for (a2, a3) in [
            ("US", "USA"),
            ("CN", "CHN"),
            ("GB", "GBR"),
            ("HK", "HKG"),
            ("DE", "DEU"),
        ] {
            assert!(CODES.contains(&(a2, a3)), "{a2}/{a3}");
            assert!(alpha2(a2) && alpha3(a3), "{a2}/{a3}");
            assert!(!alpha2(a3) && !alpha3(a2), "{a2}/{a3}");
        }
    }

    #[test]
    fn reserved_and_made_up_codes_are_not_country_codes() {
        for code in ["XX", "ZZ", "UK", "EU", "XK", "AA", "UN", "AN"] {
            assert!(!alpha2(code), "{code}");
            assert_eq!(check(code, Form::Alpha2), Err(Fault::Unassigned), "{code}");
        }
        for code in ["XYZ", "ZZZ", "EUR", "UNK"] {
            assert!(!alpha3(code), "{code}");
            assert_eq!(
                check(code, Form::Alpha2Or3),
                Err(Fault::Unassigned),
                "{code}"
            );
        }
    }

    #[test]
    fn shape_is_judged_before_the_table() {
        assert_eq!(check("US", Form::Alpha2), Ok(()));
        assert_eq!(check("USA", Form::Alpha2Or3), Ok(()));
        assert_eq!(check("CN", Form::Alpha2Or3), Ok(()));
        for code in ["cn", "C", "", "CHN", "C1", "ÇN", "china"] {
            assert_eq!(check(code, Form::Alpha2), Err(Fault::Shape), "{code:?}");
        }
        for code in ["chn", "CHNA", "C"] {
            assert_eq!(check(code, Form::Alpha2Or3), Err(Fault::Shape), "{code:?}");
        }
    }

    #[test]
    fn the_message_names_field_code_and_example() {
        assert_eq!(
            not_assigned("countryCode", "XX", "US"),
            "countryCode \"XX\" is not an ISO 3166-1 country code (use an assigned one, such as US)"
        );
    }
}
