/**
 * The response envelope `{ code, msg, data }` and its codes, shared by every compatible endpoint.
 * Codes are strings and travel with HTTP 200; clients branch on `code`.
 */

import { NotFoundError, type ServiceError } from "../errors.ts";

export const ResponseCode = {
  SUCCESS: "2001",
  INPUT_PARAMETERS_ERROR: "4001",
  TRACKING_NOT_FOUND: "4002",
  ISSUE_NOT_FOUND: "4003",
  GITHUB_ADDRESS_ERROR: "5001",
  GITEE_ADDRESS_ERROR: "5002",
  GITHUB_CONNECTION_ERROR: "5003",
  GITEE_CONNECTION_ERROR: "5004",
  DELETE_DB_ERROR: "6001",
  CONFIGFILE_PATH_EMPTY: "6002",
  DIS_CONNECTION_DB: "6003",
  INSERT_DATA_ERROR: "6004",
  DELETE_DB_NOT_FOUND: "6005",
} as const;

export type Code = (typeof ResponseCode)[keyof typeof ResponseCode];

export const MESSAGES: Record<Code, string> = {
  "2001": "Successful Operation!",
  "4001": "Please enter the correct parameters",
  "4002": "The tracking you are looking for does not exist",
  "4003": "The issue you are looking for does not exist",
  "5001": "The Github address is wrong",
  "5002": "The Gitee address is wrong",
  "5003": "Unable to connect to the github",
  "5004": "Unable to connect to the gitee",
  "6001": "Failed to delete database",
  "6002": "Initialization profile does not exist or cannot be found",
  "6003": "Unable to connect to the database, check the database configuration",
  "6004": "Failed to insert data into the database",
  "6005": "The tracking you want to delete does not exist",
};

export interface Envelope<T = unknown> {
  code: Code;
  msg: string;
  data: T;
}

export function envelope<T>(code: Code, data: T): Envelope<T> {
  return { code, msg: MESSAGES[code], data };
}

export function success<T>(data: T): Envelope<T> {
  return envelope(ResponseCode.SUCCESS, data);
}

/** Detail carried in `data` by a 4001 answer, naming the offending field. */
export interface ParameterProblem {
  field: string | null;
  error: string;
}

export function badParameters(field: string | null, error: string): Envelope<ParameterProblem> {
  return envelope(ResponseCode.INPUT_PARAMETERS_ERROR, { field, error });
}

/**
 * An upstream or forge failure as the original's codes say it: the address is wrong (5001 GitHub
 * or git, 5002 Gitee) or the service cannot be reached (5003, 5004). `data.error` keeps the reason.
 */
export function serviceFailure(error: ServiceError): Envelope<{ service: string; error: string }> {
  const gitee = error.service === "gitee";
  const code =
    error instanceof NotFoundError
      ? gitee
        ? ResponseCode.GITEE_ADDRESS_ERROR
        : ResponseCode.GITHUB_ADDRESS_ERROR
      : gitee
        ? ResponseCode.GITEE_CONNECTION_ERROR
        : ResponseCode.GITHUB_CONNECTION_ERROR;
  return envelope(code, { service: error.service, error: error.message });
}
