"""The request archive: each archived request's image and response in storage (S3 or a
folder), the outbox that carries them there, thumbnails, listing and the archive API.
"""
