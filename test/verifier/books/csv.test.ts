/** The RFC 4180 writer of the books' CSV files (verifier/books/csv.ts) and its yuan column. */
import { expect } from "chai";
import fc from "fast-check";

import { csv, csvField, parseCsv, yuanDecimal } from "../../../verifier/books/csv";

describe("books CSV (RFC 4180)", function () {
  it("quotes a field with a comma, quote or line break, doubling its quotes", function () {
    expect([csvField("a,b"), csvField('say "hi"'), csvField("x\r\ny"), csvField("plain"), csvField(12n)]).to.deep.equal(['"a,b"', '"say ""hi"""', '"x\r\ny"', "plain", "12"]);
  });

  it("ends every line with CRLF, header first", function () {
    expect(csv(["a", "b"], [[1, "x"]])).to.equal("a,b\r\n1,x\r\n");
  });

  it("parses back exactly what it wrote, for any text", function () {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: fc.constantFrom("a", ",", '"', "\r", "\n", " ", "¥") }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const width = rows[0].length;
        const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ""));
        expect(parseCsv(csv(table[0], table.slice(1)))).to.deep.equal(table);
      })
    );
  });

  it("writes fen as exact decimal yuan", function () {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (fen) => {
      const s = yuanDecimal(fen);
      expect(s).to.match(/^-?\d+\.\d{2}$/);
      expect(BigInt(s.replace(".", "")), s).to.equal(fen);
    }));
  });
});
