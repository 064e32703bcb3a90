// Google's claims_supported; the emulator issues every one of them (and hd, nonce, at_hash, azp).
const CLAIMS = ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'];

/**
 * The OpenID Connect discovery document: the fields Google publishes, with what the emulator
 * implements (the code flow and its two grants; Google also lists implicit, device and JWT-bearer).
 */
export function discoveryDocument(issuer: string, baseUrl: string) {
  return {
    issuer,
    authorization_endpoint: `${baseUrl}/o/oauth2/v2/auth`,
    token_endpoint: `${baseUrl}/token`,
    userinfo_endpoint: `${baseUrl}/v1/userinfo`,
    revocation_endpoint: `${baseUrl}/revoke`,
    jwks_uri: `${baseUrl}/oauth2/v3/certs`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    claims_supported: CLAIMS,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
  };
}
