import { createHash, timingSafeEqual } from 'node:crypto';
import { bearer } from './gateway-auth.js';
/** Checks `Authorization: Bearer <ADMIN_TOKEN>`; gateway keys never pass. */
export class AdminAuth {
    digest;
    constructor(adminToken) {
        this.digest = adminToken ? sha256(adminToken) : undefined;
    }
    get enabled() {
        return this.digest !== undefined;
    }
    /** The token's fingerprint for the audit log when it is the admin token, else undefined. */
    check(authorization) {
        const token = bearer(authorization);
        if (!token || !this.digest)
            return undefined;
        const d = sha256(token);
        return timingSafeEqual(d, this.digest) ? d.toString('hex').slice(0, 16) : undefined;
    }
}
function sha256(s) {
    return createHash('sha256').update(s).digest();
}
