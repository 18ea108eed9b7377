//! Label and field selectors (being built).

pub fn parse_label_selector(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn parse_field_selector(_s: &str) -> Result<(), String> {
    Ok(())
}
