"""Reading an uploaded image from the HTTP request, for phones and for curl alike:

- ``multipart/form-data`` (a browser form: ``<input type="file" name="photo"
  accept="image/*" capture="environment">``; ``curl -F photo=@site.jpg -F caption=...``): the
  file field ``photo``, with the form fields ``caption`` and ``taken_at``;
- anything else is the image itself as the body (``curl --data-binary @site.jpg -H
  'Content-Type: image/jpeg'``), with ``caption`` and ``taken_at`` in the query string.

The declared content type is never trusted (the store sniffs the bytes). A body longer than
the limit is refused (413) from its ``Content-Length`` before it is read.
"""
from __future__ import annotations

from werkzeug.exceptions import RequestEntityTooLarge

from .adapters.evidence import EvidenceRejected, too_large

MULTIPART_SLACK = 64 * 1024        # the form's boundaries and text fields around the file
META = ("caption", "taken_at")


def read_upload(request, field: str, limit: int) -> tuple[bytes, dict]:
    """(the image's bytes, its caption and taken_at as sent); EvidenceRejected naming
    ``field`` when it is missing or over ``limit`` bytes."""
    multipart = request.mimetype == "multipart/form-data"
    bound = limit + (MULTIPART_SLACK if multipart else 0)
    length = request.content_length
    if length is not None and length > bound:
        raise too_large(length, field, limit)
    request.max_content_length = bound
    try:
        if not multipart:
            return request.get_data(), {k: v for k in META if (v := request.args.get(k))}
        upload = request.files.get(field)
        if upload is None:
            raise EvidenceRejected(400, field, f"is missing: send the image as the form's "
                                               f"file field `{field}`")
        data = upload.read()             # bounded: the form is at most limit + slack
        return data, {k: v for k in META if (v := request.form.get(k))}
    except RequestEntityTooLarge:
        raise too_large(length or bound + 1, field, limit) from None
