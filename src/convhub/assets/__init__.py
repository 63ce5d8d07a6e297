"""Assets: attachments uploaded and downloaded through signed URLs (DECISIONS §9)."""
