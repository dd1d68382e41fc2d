"""The CA's public material: its root certificate (the trust anchor) and its current revocation list.

Certificates in signed contracts point here for the CRL, so a verifier needs nothing from the internet.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CaDep
from api.errors import responses
from services.blocking import in_thread

router = APIRouter(prefix="/v1/ca", tags=["documents"])


@router.get("/crl", response_class=Response, responses={200: {"content": {"application/pkix-crl": {}}},
                                                        **responses(503)})
async def crl(ca: CaDep) -> Response:
    return Response(await in_thread(ca.crl_der), media_type="application/pkix-crl",
                    headers={"Cache-Control": "no-store"})


@router.get("/root.pem", response_class=Response, responses={200: {"content": {"application/x-pem-file": {}}}})
async def root_certificate(ca: CaDep) -> Response:
    return Response(await in_thread(ca.root_certificate_pem), media_type="application/x-pem-file")
