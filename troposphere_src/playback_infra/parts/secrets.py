"""What generated and rotated database passwords leave out."""

# Printable ASCII without the characters that break MySQL client strings, shells and URLs.
PASSWORD_EXCLUDE = "\"'@/\\`:;%&?#"
