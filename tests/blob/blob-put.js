#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// blob-put.js: upload test data to Azure Blob storage (or Azurite) with
// Shared Key authorization, using only what Node.js ships.
//
//   node blob-put.js mkcontainer CONTAINER_URL [--public blob|container]
//   node blob-put.js put FILE BLOB_URL [--block-size BYTES]
//
// The account name and key come from AZURE_STORAGE_ACCOUNT and
// AZURE_STORAGE_KEY (base64). A file no larger than the block size (default
// 8 MiB) goes up in one Put Blob; a larger one as Put Block calls of that
// size followed by one Put Block List, so files of any size up to 50000
// blocks work with one block in memory at a time. Every body carries a
// Content-MD5 that the service checks, and the whole blob gets an
// x-ms-blob-content-md5 that a later Get Blob returns. On success `put`
// prints the blob's ETag and `mkcontainer` the container's.
//
// The request signer is written from the service's documented Shared Key
// rules, independently of the daemon's, so that each checks the other
// against the same service. Failures exit non-zero with the service's error
// code and message; the key is never printed.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');

const API_VERSION = '2021-12-02';
const DEFAULT_BLOCK = 8 << 20;
const MIN_BLOCK = 64 << 10;
const MAX_BLOCK = 64 << 20;
const MAX_BLOCKS = 50000;

function fail(msg) {
	process.stderr.write(`blob-put: ${msg}\n`);
	process.exit(1);
}

function usage() {
	process.stderr.write(
		'usage: blob-put.js mkcontainer CONTAINER_URL [--public blob|container]\n' +
		'       blob-put.js put FILE BLOB_URL [--block-size BYTES]\n' +
		'env:   AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY (base64)\n');
	process.exit(2);
}

function credentials() {
	const account = process.env.AZURE_STORAGE_ACCOUNT;
	const keyText = process.env.AZURE_STORAGE_KEY;
	if (!account)
		fail('AZURE_STORAGE_ACCOUNT is not set');
	if (!keyText)
		fail('AZURE_STORAGE_KEY is not set');
	// Buffer.from() skips bad characters silently: check the text itself.
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText) || keyText.length % 4 !== 0)
		fail('AZURE_STORAGE_KEY is not base64');
	return { account, key: Buffer.from(keyText, 'base64') };
}

function parseUrl(text, what) {
	let url;
	try {
		url = new URL(text);
	} catch {
		fail(`${what} is not a URL: ${text}`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		fail(`${what} must be http:// or https://: ${text}`);
	if (url.search || url.hash)
		fail(`${what} must have no query or fragment: ${text}`);
	return url;
}

// x-ms-* headers: lowercased names in order, each "name:value\n" with the
// value's runs of whitespace folded to one space and its ends trimmed.
function canonicalHeaders(headers) {
	return Object.keys(headers)
		.map((name) => name.toLowerCase())
		.filter((name) => name.startsWith('x-ms-'))
		.sort()
		.map((name) => `${name}:${String(headers[name]).replace(/\s+/g, ' ').trim()}\n`)
		.join('');
}

// "/" account, the path as sent (percent-encoded), then each query
// parameter as "\nname:value" with names lowercased and sorted, values
// decoded and, when a name repeats, sorted and joined with commas.
function canonicalResource(account, url) {
	const params = new Map();
	for (const [name, value] of url.searchParams) {
		const key = name.toLowerCase();
		if (!params.has(key))
			params.set(key, []);
		params.get(key).push(value);
	}
	let out = `/${account}${url.pathname}`;
	for (const name of [...params.keys()].sort())
		out += `\n${name}:${params.get(name).sort().join(',')}`;
	return out;
}

function stringToSign(method, url, headers, account) {
	const h = (name) => headers[name] ?? '';
	// Since 2015-02-21 a zero Content-Length is signed as an empty string.
	const length = headers['Content-Length'] === 0 ? '' : String(h('Content-Length'));
	return [
		method,
		h('Content-Encoding'),
		h('Content-Language'),
		length,
		h('Content-MD5'),
		h('Content-Type'),
		h('Date'),
		h('If-Modified-Since'),
		h('If-Match'),
		h('If-None-Match'),
		h('If-Unmodified-Since'),
		h('Range'),
	].join('\n') + '\n' + canonicalHeaders(headers) + canonicalResource(account, url);
}

function sign(cred, method, url, headers) {
	const mac = crypto.createHmac('sha256', cred.key)
		.update(stringToSign(method, url, headers, cred.account), 'utf8')
		.digest('base64');
	headers.Authorization = `SharedKey ${cred.account}:${mac}`;
}

// The service's error as "CODE: message", from the XML body when there is
// one, else from the x-ms-error-code header.
function serviceError(res, body) {
	const text = body.toString('utf8');
	const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? res.headers['x-ms-error-code'] ?? 'no error code';
	const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]?.split('\n')[0] ?? res.statusMessage;
	return `${res.statusCode} ${code}: ${message}`;
}

const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

// One signed request; resolves with the response once it succeeded.
function request(cred, method, url, extraHeaders, body) {
	const headers = {
		'x-ms-date': new Date().toUTCString(),
		'x-ms-version': API_VERSION,
		...extraHeaders,
		'Content-Length': body ? body.length : 0,
	};
	if (body && body.length)
		headers['Content-MD5'] = crypto.createHash('md5').update(body).digest('base64');
	sign(cred, method, url, headers);
	const mod = url.protocol === 'https:' ? https : http;
	return new Promise((resolve, reject) => {
		const req = mod.request(url, { method, headers, agent: agents[url.protocol] }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				if (res.statusCode >= 200 && res.statusCode < 300)
					resolve(res);
				else
					reject(new Error(`${method} ${url.href}: ${serviceError(res, Buffer.concat(chunks))}`));
			});
		});
		req.on('error', (e) => reject(new Error(`${method} ${url.href}: ${e.message}`)));
		req.end(body);
	});
}

function withQuery(url, params) {
	const u = new URL(url.href);
	for (const [k, v] of Object.entries(params))
		u.searchParams.set(k, v);
	return u;
}

async function mkcontainer(cred, args) {
	const url = parseUrl(args[0] ?? usage(), 'CONTAINER_URL');
	const headers = {};
	if (args.length === 3 && args[1] === '--public') {
		if (args[2] !== 'blob' && args[2] !== 'container')
			fail(`--public wants blob or container, not ${args[2]}`);
		headers['x-ms-blob-public-access'] = args[2];
	} else if (args.length !== 1) {
		usage();
	}
	const res = await request(cred, 'PUT', withQuery(url, { restype: 'container' }), headers);
	console.log(res.headers.etag);
}

function parseBlockSize(text) {
	if (!/^[0-9]+$/.test(text))
		fail(`--block-size wants a number of bytes, not ${text}`);
	const n = Number(text);
	if (n < MIN_BLOCK || n > MAX_BLOCK)
		fail(`--block-size ${n} is outside ${MIN_BLOCK}..${MAX_BLOCK}`);
	return n;
}

function readAt(fd, length, position) {
	const buf = Buffer.alloc(length);
	let done = 0;
	while (done < length) {
		const n = fs.readSync(fd, buf, done, length - done, position + done);
		if (n === 0)
			fail(`file shrank while reading it (short read at ${position + done})`);
		done += n;
	}
	return buf;
}

function fileMd5(fd, size) {
	const md5 = crypto.createHash('md5');
	for (let off = 0; off < size; off += MAX_BLOCK)
		md5.update(readAt(fd, Math.min(MAX_BLOCK, size - off), off));
	return md5.digest('base64');
}

// Block ids must all have the same length within a blob.
function blockId(i) {
	return Buffer.from(`blk-${String(i).padStart(8, '0')}`).toString('base64');
}

async function putBlocks(cred, url, fd, size, blockSize, common) {
	const ids = [];
	for (let off = 0, i = 0; off < size; off += blockSize, i++) {
		const id = blockId(i);
		const body = readAt(fd, Math.min(blockSize, size - off), off);
		await request(cred, 'PUT', withQuery(url, { comp: 'block', blockid: id }), {}, body);
		ids.push(id);
	}
	const xml = '<?xml version="1.0" encoding="utf-8"?>\n<BlockList>' +
		ids.map((id) => `<Latest>${id}</Latest>`).join('') + '</BlockList>\n';
	return request(cred, 'PUT', withQuery(url, { comp: 'blocklist' }),
		{ 'Content-Type': 'application/xml', ...common }, Buffer.from(xml));
}

async function put(cred, args) {
	if (args.length !== 2 && !(args.length === 4 && args[2] === '--block-size'))
		usage();
	const [file, urlText] = args;
	const url = parseUrl(urlText, 'BLOB_URL');
	const blockSize = args.length === 4 ? parseBlockSize(args[3]) : DEFAULT_BLOCK;
	let fd;
	try {
		fd = fs.openSync(file, 'r');
	} catch (e) {
		fail(`cannot open ${file}: ${e.message}`);
	}
	const st = fs.fstatSync(fd);
	if (!st.isFile())
		fail(`${file} is not a regular file`);
	const size = st.size;
	if (Math.ceil(size / blockSize) > MAX_BLOCKS)
		fail(`${file}: ${size} bytes need more than ${MAX_BLOCKS} blocks of ${blockSize}`);
	const common = {
		'x-ms-blob-content-type': 'application/octet-stream',
		'x-ms-blob-content-md5': fileMd5(fd, size),
	};
	let res;
	if (size <= blockSize) {
		res = await request(cred, 'PUT', url,
			{ 'x-ms-blob-type': 'BlockBlob', 'Content-Type': 'application/octet-stream', ...common },
			readAt(fd, size, 0));
	} else {
		res = await putBlocks(cred, url, fd, size, blockSize, common);
	}
	fs.closeSync(fd);
	console.log(res.headers.etag);
}

async function main() {
	const [cmd, ...args] = process.argv.slice(2);
	if (cmd === 'mkcontainer')
		return mkcontainer(credentials(), args);
	if (cmd === 'put')
		return put(credentials(), args);
	usage();
}

main().then(() => process.exit(0), (e) => fail(e.message));
