# Test certificates made with the openssl command: a private CA, server certificates it issues
# for given host names, self-signed ones, and the digests that DANE TLSA records publish.
import hashlib
import subprocess
from pathlib import Path

OPENSSL = "/usr/bin/openssl"
TIMEOUT = 30.0  # seconds one openssl command may take


def _openssl(*args, data=None):
    out = subprocess.run([OPENSSL, *args], input=data, capture_output=True, timeout=TIMEOUT)
    assert out.returncode == 0, f"openssl {' '.join(args)}: {out.stderr.decode(errors='replace')}"
    return out.stdout


class Cert:
    """A certificate and its key as PEM files; `chain` is the certificate followed by the CA's
    (what a server sends), `pem` the certificate alone."""

    def __init__(self, pem, key, chain):
        self.pem = Path(pem)
        self.key = Path(key)
        self.chain = Path(chain)

    def der(self):
        return _openssl("x509", "-in", str(self.pem), "-outform", "DER")

    def spki_sha256(self):
        """SHA2-256 of the DER SubjectPublicKeyInfo: the data of a TLSA "x 1 1" record."""
        pub = _openssl("x509", "-in", str(self.pem), "-pubkey", "-noout")
        return hashlib.sha256(_openssl("pkey", "-pubin", "-outform", "DER", data=pub)).hexdigest()

    def cert_sha256(self):
        """SHA2-256 of the whole DER certificate: the data of a TLSA "x 0 1" record."""
        return hashlib.sha256(self.der()).hexdigest()


def _san(names):
    return "subjectAltName=" + ",".join(f"DNS:{n}" for n in names)


def self_signed(directory, name, names=None):
    """A self-signed server certificate for `names` (default: [name]) in `directory`."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    pem, key = d / f"{name}.crt", d / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(pem), "-days", "30", "-subj", f"/CN={name}",
             "-addext", _san(names or [name]))
    return Cert(pem, key, pem)


class TestCa:
    """A private certificate authority in `directory`; `issue` signs server certificates."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory, name="Tern Test CA"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pem, self.key = self.dir / "ca.crt", self.dir / "ca.key"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", str(self.key), "-out", str(self.pem), "-days", "30",
                 "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.cert = Cert(self.pem, self.key, self.pem)
        self._serial = 1

    def issue(self, name, names=None):
        """A server certificate for `names` (default: [name]) signed by this CA."""
        key, csr, pem = (self.dir / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
        ext = self.dir / f"{name}.ext"
        ext.write_text(_san(names or [name]) + "\nbasicConstraints=CA:FALSE\n"
                       "extendedKeyUsage=serverAuth\n")
        self._serial += 1
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.pem), "-CAkey", str(self.key),
                 "-set_serial", str(self._serial), "-days", "30", "-out", str(pem),
                 "-extfile", str(ext))
        chain = self.dir / f"{name}.chain.crt"
        chain.write_bytes(pem.read_bytes() + self.pem.read_bytes())
        return Cert(pem, key, chain)
