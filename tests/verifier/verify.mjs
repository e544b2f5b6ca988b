// Independent verifier for the test suite: Digital Bazaar's VC libraries, nothing from the platform.
// Reads {"contexts": {url: file}, "documents": {url: json}, "credentials": [json, ...]} on stdin and
// prints one result per credential: {"verified": bool (all checks), "proof": bool (the signature),
// "error": str|null, "revoked": bool|null (read from the signed status list)}.
// The document loader serves only the given contexts and documents: it never touches the network.
import fs from 'node:fs';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const documents = new Map();
for(const [url, file] of Object.entries(input.contexts)) {
  documents.set(url, JSON.parse(fs.readFileSync(file, 'utf8')));
}
for(const [url, doc] of Object.entries(input.documents || {})) {
  documents.set(url, doc);
}

async function documentLoader(url) {
  if(documents.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(documents.get(url))};
  }
  throw new Error(`document not available offline: ${url}`);
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});

function message(error) {
  if(!error) {
    return null;
  }
  const errors = error.errors || (Array.isArray(error) ? error : [error]);
  return errors.map(e => e && (e.message || String(e))).join('; ');
}

const results = [];
for(const credential of input.credentials) {
  const result = {verified: false, proof: false, error: null, revoked: null};
  try {
    let statusResult = null;
    const outcome = await vc.verifyCredential({
      credential, suite, documentLoader,
      async checkStatus(options) {
        statusResult = await checkStatus({
          ...options, suite, verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true
        });
        return statusResult;
      }
    });
    result.verified = outcome.verified === true;
    const proofs = outcome.results || [];
    result.proof = proofs.length > 0 && proofs.every(r => r.verified === true);
    const statuses = (statusResult && statusResult.results) || [];
    if(statuses.length > 0 && statuses.every(r => typeof r.status === 'boolean')) {
      result.revoked = statuses.some(r => r.status === true);
    }
    if(!result.verified) {
      result.error = message(outcome.error) ||
        JSON.stringify((outcome.results || []).map(r => message(r.error))) ||
        (statusResult && message(statusResult.error));
    }
  } catch(e) {
    result.error = e.message || String(e);
  }
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
