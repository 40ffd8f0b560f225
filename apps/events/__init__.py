"""Request-event archive: each archived request's image and response, stored in S3 or a folder."""
