"""False-alarm feedback on camera events: verdicts, the learned areas a false alarm teaches the
camera, and per-class precision with suggested filter settings."""
