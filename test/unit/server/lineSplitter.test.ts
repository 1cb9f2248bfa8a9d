// The byte-bounded splitter: lines of any size and any bytes become capped, storable text.
import { strict as assert } from 'node:assert';
import { LineSplitter, storableText, utf8Prefix } from '../../../src/server/lineSplitter';

function split(chunks: Array<Buffer | string>, maxLineBytes = 256): Array<{ text: string; cut: number }> {
  const lines: Array<{ text: string; cut: number }> = [];
  const splitter = new LineSplitter(maxLineBytes, (text, cut) => lines.push({ text, cut }));
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return lines;
}

describe('lineSplitter', () => {
  it('splits on newlines across chunks, strips CR of CRLF, keeps empty lines and a last line without newline', () => {
    assert.deepEqual(
      split(['one\ntw', 'o\r\n\nthr', 'ee']).map((line) => line.text),
      ['one', 'two', '', 'three'],
    );
  });

  it('a line longer than the cap keeps its start and its end and says how many bytes were cut', () => {
    const long = 'S' + 'x'.repeat(10_000) + 'THE-END';
    const [line, next] = split([long.slice(0, 3000), long.slice(3000), '\nnext\n'], 512);
    assert.ok(Buffer.byteLength(line.text) <= 512, `${Buffer.byteLength(line.text)} bytes`);
    assert.ok(line.text.startsWith('Sxxx'));
    assert.ok(line.text.endsWith('THE-END'), line.text.slice(-40));
    assert.match(line.text, new RegExp(`${line.cut} bytes cut`));
    assert.equal(Buffer.byteLength(line.text.replace(/ \[…\d+ bytes cut by cron-ops: line longer than the cap…\] /, '')) + line.cut, Buffer.byteLength(long));
    assert.equal(next.text, 'next');
  });

  it('a line of exactly the cap is kept whole', () => {
    const [line] = split(['y'.repeat(256) + '\n'], 256);
    assert.equal(line.text, 'y'.repeat(256));
    assert.equal(line.cut, 0);
  });

  it('never cuts a character in two', () => {
    const [line] = split(['é'.repeat(1000) + '\n'], 301);
    assert.ok(!line.text.includes('\uFFFD'), 'no replacement character from a cut');
    assert.ok(Buffer.byteLength(line.text) <= 301);
  });

  it('replaces NUL, invalid UTF-8 and encoded lone surrogates, and stays within the cap when replacements grow the line', () => {
    const [nul, invalid, surrogate] = split([Buffer.from('x\0y\n'), Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]), Buffer.from([0x63, 0xed, 0xa0, 0x80, 0x64, 0x0a])]);
    assert.equal(nul.text, 'x\uFFFDy');
    assert.equal(invalid.text, 'a\uFFFD\uFFFDb');
    assert.ok(/^c\uFFFD+d$/.test(surrogate.text), JSON.stringify(surrogate.text));
    const [grown] = split([Buffer.alloc(300, 0xff), '\n'], 300);
    assert.ok(Buffer.byteLength(grown.text) <= 300, `${Buffer.byteLength(grown.text)} bytes`);
    assert.ok(grown.cut > 0);
  });

  it('holds memory of one capped line whatever the size of the line', () => {
    const splitter = new LineSplitter(1024, () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const before = process.memoryUsage().arrayBuffers;
    for (let index = 0; index < 2000; index++) splitter.push(chunk);
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, 'no growth with the line');
    let text = '';
    const done = new LineSplitter(1024, (line) => (text = line));
    done.push(chunk);
    done.end();
    assert.ok(Buffer.byteLength(text) <= 1024);
  });

  it('storableText and utf8Prefix', () => {
    assert.equal(storableText('a\u0000b\uD800c\uDC00d\uD83D\uDE00'), 'a\uFFFDb\uFFFDc\uFFFDd\uD83D\uDE00');
    assert.equal(utf8Prefix('aé😀', 3), 'aé');
    assert.equal(utf8Prefix('aé😀', 6), 'aé');
    assert.equal(utf8Prefix('aé😀', 7), 'aé😀');
  });
});
