//! The personal data of a beneficiary, its fields checked.

use super::{BeneficiaryUpdate, PayoutMethod, CONTACT_LEN_MAX, NAME_LEN_MAX, NOTE_LEN_MAX};
use crate::Error;

/// The personal data, checked. Private: it leaves this crate only as a
/// [`RevealedBeneficiary`](super::RevealedBeneficiary).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Personal {
    pub(super) name: String,
    pub(super) contact: String,
    pub(super) method: PayoutMethod,
    pub(super) note: String,
}

impl Personal {
    pub(crate) fn new(
        name: &str,
        contact: &str,
        method: PayoutMethod,
        note: &str,
    ) -> Result<Personal, Error> {
        Ok(Personal {
            name: name_field(name)?,
            contact: contact_field(contact)?,
            method,
            note: note_field(note)?,
        })
    }

    pub(super) fn merged(mut self, change: &BeneficiaryUpdate) -> Result<Personal, Error> {
        if let Some(name) = &change.name {
            self.name = name_field(name)?;
        }
        if let Some(contact) = &change.contact {
            self.contact = contact_field(contact)?;
        }
        if let Some(method) = &change.method {
            self.method = method.clone();
        }
        if let Some(note) = &change.note {
            self.note = note_field(note)?;
        }
        Ok(self)
    }
}

pub(crate) fn name_field(value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > NAME_LEN_MAX {
        return Err(Error::invalid("name", format!("required, at most {NAME_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}

pub(crate) fn contact_field(value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.chars().count() > CONTACT_LEN_MAX {
        return Err(Error::invalid("contact", format!("at most {CONTACT_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}

pub(crate) fn note_field(value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.chars().count() > NOTE_LEN_MAX {
        return Err(Error::invalid("note", format!("at most {NOTE_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}
