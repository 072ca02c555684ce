import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories

PDF = factories.PDF_BYTES
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def ooxml(part: str) -> bytes:
    """A minimal Office Open XML file holding `part` (word/document.xml for DOCX, xl/workbook.xml for XLSX)."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return content.getvalue()


def ole(stream: str) -> bytes:
    """The start of an Office 97–2003 compound file naming `stream` in its directory (WordDocument, Workbook)."""
    return OLE_MAGIC + bytes(504) + stream.encode("utf-16-le") + bytes(64)


def upload(name: str, content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def people(two_provinces):
    """The users of tests.conftest.two_provinces, with a Hubei city officer and filer, and a Zhuzhou officer."""
    users = dict(two_provinces["users"])
    users["hubei_city_officer"] = factories.CityOfficerFactory(region=factories.region("420100"))
    users["hubei_filer"] = factories.FilerFactory(institution=two_provinces["institutions"]["wuhan"])
    users["zhuzhou_officer"] = factories.CityOfficerFactory(region=factories.region("430200"))
    return users


@pytest.fixture
def regions(db):
    return {code: factories.region(code) for code in ("000000", "430000", "420000", "430100")}
