//! What each of ImageNet-1k's classes means in WildID's terms, from the committed table
//! `model/imagenet_classes.tsv` (see `model/README.md` for where the names come from).

/// One class of the classifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ClassInfo {
    /// torchvision's label, e.g. `loggerhead`.
    pub label: String,
    /// Whether the class is a living animal.
    pub is_animal: bool,
    /// English display name, e.g. `Loggerhead sea turtle`.
    pub common_name: String,
    /// Broad group (bird, mammal, reptile...); empty for non-animals.
    pub animal_type: String,
    /// Scientific name at the most specific honest rank; empty for non-animals.
    pub species: String,
    /// IUCN category where the class is one wild species and it is known, `Domesticated` for
    /// domestic forms, otherwise empty.
    pub conservation_status: String,
}

/// The 1,000 classes, in the network's output order.
#[derive(Debug, Clone)]
pub(super) struct ClassTable(Vec<ClassInfo>);

/// The table built into the binary.
const TABLE: &str = include_str!("../../model/imagenet_classes.tsv");

/// Why the table cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("class table line {line}: {why}")]
pub(super) struct TableError {
    line: usize,
    why: String,
}

impl ClassTable {
    /// The built-in table.
    pub(super) fn builtin() -> Result<Self, TableError> {
        Self::parse(TABLE, super::network::CLASSES)
    }

    /// Parses a table with a header line and `classes` rows in index order.
    fn parse(text: &str, classes: usize) -> Result<Self, TableError> {
        let mut rows = Vec::with_capacity(classes);
        for (n, line) in text.lines().enumerate().skip(1) {
            let err = |why: &str| TableError {
                line: n + 1,
                why: why.to_owned(),
            };
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [index, label, is_animal, common, kind, species, status] = fields[..] else {
                return Err(err("expected 7 tab-separated fields"));
            };
            if index.parse::<usize>().ok() != Some(rows.len()) {
                return Err(err("index out of order"));
            }
            let is_animal = match is_animal {
                "true" => true,
                "false" => false,
                _ => return Err(err("is_animal must be true or false")),
            };
            if common.is_empty() || (is_animal && (kind.is_empty() || species.is_empty())) {
                return Err(err("an animal needs a common name, a type and a species"));
            }
            rows.push(ClassInfo {
                label: label.to_owned(),
                is_animal,
                common_name: common.to_owned(),
                animal_type: kind.to_owned(),
                species: species.to_owned(),
                conservation_status: status.to_owned(),
            });
        }
        if rows.len() != classes {
            return Err(TableError {
                line: 0,
                why: format!("{} classes, expected {classes}", rows.len()),
            });
        }
        Ok(Self(rows))
    }

    /// Class `index`, if it exists.
    pub(super) fn get(&self, index: usize) -> Option<&ClassInfo> {
        self.0.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_has_every_class_in_order() {
        let table = ClassTable::builtin().unwrap();
        let animals = (0..1000)
            .filter(|&i| table.get(i).unwrap().is_animal)
            .count();
        assert!((390..=400).contains(&animals), "{animals} animal classes");
        let loggerhead = table.get(33).unwrap();
        assert_eq!(loggerhead.label, "loggerhead");
        assert_eq!(loggerhead.species, "Caretta caretta");
        assert_eq!(loggerhead.animal_type, "reptile");
        assert_eq!(table.get(34).unwrap().species, "Dermochelys coriacea");
        assert!(!table.get(504).unwrap().is_animal, "coffee mug");
        assert!(table.get(1000).is_none());
    }

    #[test]
    fn a_malformed_table_is_refused_with_its_line() {
        let head =
            "index\tlabel\tis_animal\tcommon_name\tanimal_type\tspecies\tconservation_status\n";
        let ok = format!("{head}0\ttench\ttrue\tTench\tfish\tTinca tinca\tLC\n");
        assert!(ClassTable::parse(&ok, 1).is_ok());
        for bad in [
            format!("{head}1\ttench\ttrue\tTench\tfish\tTinca tinca\tLC\n"),
            format!("{head}0\ttench\tyes\tTench\tfish\tTinca tinca\tLC\n"),
            format!("{head}0\ttench\ttrue\tTench\tfish\t\tLC\n"),
            format!("{head}0\ttench\ttrue\tTench\n"),
        ] {
            let e = ClassTable::parse(&bad, 1).unwrap_err().to_string();
            assert!(e.starts_with("class table line 2"), "{e}");
        }
        assert!(ClassTable::parse(head, 1).is_err());
    }
}
