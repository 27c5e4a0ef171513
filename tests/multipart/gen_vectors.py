# Writes the multipart test vectors that do not come from curl:
# RFC examples, bodies from Python's email package and from urllib3's
# encode_multipart_formdata (the encoder behind requests).
# Run from tests/multipart/: python3 gen_vectors.py  (needs urllib3).
# Each vector is NAME.body, NAME.ct and NAME.expect (format: capture_curl.py;
# "=" data may use the escapes \r \n \t \\).
import email.charset, email.policy
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
import urllib3

def save(name, ct, body, expect):
    open(f"{name}.body", "wb").write(body)
    open(f"{name}.ct", "wb").write(ct.encode() + b"\n")
    open(f"{name}.expect", "w").write(expect)

tricky = open("data/tricky.bin", "rb").read()
hello = open("data/hello.txt", "rb").read()

# RFC 2046 5.1.1: a quoted boundary with a space, a preamble, a part
# without headers, an epilogue.
save("rfc2046", 'multipart/mixed; boundary="simple boundary"',
     b"This is the preamble.  It is to be ignored, though it\r\n"
     b"is a handy place for composition agents to include an\r\n"
     b"explanatory note to non-MIME conformant readers.\r\n"
     b"\r\n"
     b"--simple boundary\r\n"
     b"\r\n"
     b"This is implicitly typed plain US-ASCII text.\r\n"
     b"It does NOT end with a linebreak.\r\n"
     b"--simple boundary\r\n"
     b"Content-type: text/plain; charset=us-ascii\r\n"
     b"\r\n"
     b"This is explicitly typed plain US-ASCII text.\r\n"
     b"It DOES end with a linebreak.\r\n"
     b"\r\n"
     b"--simple boundary--\r\n"
     b"\r\n"
     b"This is the epilogue.  It is also to be ignored.\r\n",
     "0\t-\t-\ttext/plain\t=This is implicitly typed plain US-ASCII text.\\r\\nIt does NOT end with a linebreak.\n"
     "0\t-\t-\ttext/plain\t=This is explicitly typed plain US-ASCII text.\\r\\nIt DOES end with a linebreak.\\r\\n\n")

# RFC 7578 4.5 / 4.6: charset and a quoted-printable field.
save("rfc7578", "multipart/form-data; boundary=AaB03x",
     b"--AaB03x\r\n"
     b"content-disposition: form-data; name=\"_charset_\"\r\n"
     b"\r\n"
     b"iso-8859-1\r\n"
     b"--AaB03x\r\n"
     b"content-disposition: form-data; name=\"field1\"\r\n"
     b"content-type: text/plain;charset=UTF-8\r\n"
     b"content-transfer-encoding: quoted-printable\r\n"
     b"\r\n"
     b"Joe owes =E2=82=AC100.\r\n"
     b"--AaB03x--\r\n",
     "0\t_charset_\t-\ttext/plain\t=iso-8859-1\n"
     "0\tfield1\t-\ttext/plain\t=Joe owes €100.\n")

# RFC 2388 / HTML 4.01 17.13.4: files of one field as a nested
# multipart/mixed (note the ", boundary=" of the HTML example).
save("rfc2388_nested", "multipart/form-data, boundary=AaB03x",
     b"--AaB03x\r\n"
     b"Content-Disposition: form-data; name=\"submit-name\"\r\n"
     b"\r\n"
     b"Larry\r\n"
     b"--AaB03x\r\n"
     b"Content-Disposition: form-data; name=\"files\"\r\n"
     b"Content-Type: multipart/mixed, boundary=BbC04y\r\n"
     b"\r\n"
     b"--BbC04y\r\n"
     b"Content-Disposition: file; filename=\"file1.txt\"\r\n"
     b"Content-Type: text/plain\r\n"
     b"\r\n"
     b"... contents of file1.txt ...\r\n"
     b"--BbC04y\r\n"
     b"Content-Disposition: file; filename=\"file2.gif\"\r\n"
     b"Content-Type: image/gif\r\n"
     b"Content-Transfer-Encoding: binary\r\n"
     b"\r\n"
     b"...contents of file2.gif...\r\n"
     b"--BbC04y--\r\n"
     b"--AaB03x--\r\n",
     "0\tsubmit-name\t-\ttext/plain\t=Larry\n"
     "0\tfiles\t-\tmultipart/mixed\t*\n"
     "1\t-\tfile1.txt\ttext/plain\t=... contents of file1.txt ...\n"
     "1\t-\tfile2.gif\timage/gif\t=...contents of file2.gif...\n")

# Python's email package: quoted-printable UTF-8 text, base64 binary with
# filename* (RFC 2231/5987), a nested multipart/mixed with base64 parts.
qp = email.charset.Charset("utf-8")
qp.body_encoding = email.charset.QP
msg = MIMEMultipart("form-data")
t = MIMEText("Joe owes €100 = a lot.   \nLine two, with a very long line that quoted-printable must break softly because it is longer than seventy-six characters.\n", "plain", qp)
t["Content-Disposition"] = 'form-data; name="note"'
msg.attach(t)
b = MIMEApplication(tricky)
b["Content-Disposition"] = "form-data; name=\"upload\"; filename=\"fallback.bin\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.bin"
msg.attach(b)
inner = MIMEMultipart("mixed")
inner["Content-Disposition"] = 'form-data; name="files"'
h = MIMEApplication(hello, "plain")
h["Content-Disposition"] = 'attachment; filename="hello.txt"'
inner.attach(h)
b2 = MIMEApplication(tricky)
b2["Content-Disposition"] = "attachment; filename*=iso-8859-1''caf%E9.bin"
inner.attach(b2)
msg.attach(inner)
raw = msg.as_bytes(policy=email.policy.HTTP)
head, body = raw.split(b"\r\n\r\n", 1)
open("data/email_note.txt", "wb").write(
    "Joe owes €100 = a lot.   \r\nLine two, with a very long line that quoted-printable must break softly because it is longer than seventy-six characters.\r\n".encode())
save("email_nested", msg["Content-Type"], body,
     "0\tnote\t-\ttext/plain\t@data/email_note.txt\n"
     "0\tupload\tGrüße €.bin\tapplication/octet-stream\t@data/tricky.bin\n"
     "0\tfiles\t-\tmultipart/mixed\t*\n"
     "1\t-\thello.txt\tapplication/plain\t@data/hello.txt\n"
     "1\t-\tcafé.bin\tapplication/octet-stream\t@data/tricky.bin\n")

# urllib3 (requests): HTML5-style filenames (raw UTF-8, '"' as %22).
body, ct = urllib3.encode_multipart_formdata([
    ("text", "hello"),
    ("file", ("report.txt", hello, "text/plain")),
    ("bin", ("tricky.bin", tricky, "application/octet-stream")),
    ("odd", ('a"b €.txt', b"x", "text/plain")),
], boundary="3f1c0b1e9a4d4c6e8b2a7d5f6e4c3b2a")
save("urllib3_form", ct, body,
     "0\ttext\t-\ttext/plain\t=hello\n"
     "0\tfile\treport.txt\ttext/plain\t@data/hello.txt\n"
     "0\tbin\ttricky.bin\tapplication/octet-stream\t@data/tricky.bin\n"
     "0\todd\ta%22b €.txt\ttext/plain\t=x\n")
