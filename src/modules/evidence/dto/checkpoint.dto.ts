import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ToInt } from '../../../common/http/transforms.js';
import { PageQueryDto } from '../../../common/http/pagination.js';
import type { EvidenceCheckpoint } from '../entities/evidence-checkpoint.entity.js';

export class CheckpointDto {
  @ApiProperty({ example: 'CKP01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ description: 'The tenant whose tree it is (part of what is signed)' }) tenant_id: string;
  @ApiProperty({ description: 'Leaves (evidence events) the tree had' }) tree_size: number;
  @ApiProperty({ description: "Hex SHA-256: the RFC 9162 root of the tree's first tree_size leaves" }) root_hash: string;
  @ApiProperty({ format: 'date-time' }) issued_at: string;
  @ApiProperty({ description: 'Base64 signature by the signing key over the RFC 8785 JSON of {tenant_id, tree_size, root_hash, issued_at}' })
  signature: string;
  @ApiProperty({ example: 'RSASSA-PKCS1-v1_5/SHA-256', description: 'How the signature is made (ECDSA signatures are DER)' }) signature_algorithm: string;
  @ApiProperty({ nullable: true, type: String, description: 'Base64 DER RFC 3161 time-stamp token over SHA-256 of the signature bytes (with TSA_URL), else null' })
  timestamp_token: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Base64 DER of the signing certificate the signature was made under (issued by the CA of GET /v1/signing/certificates); null for checkpoints made before certificates were kept',
  })
  signing_certificate: string | null;

  static of(c: EvidenceCheckpoint): CheckpointDto {
    return {
      id: c.id,
      tenant_id: c.tenantId,
      tree_size: c.treeSize,
      root_hash: c.rootHash,
      issued_at: c.issuedAt.toISOString(),
      signature: c.signature,
      signature_algorithm: c.signatureAlgorithm,
      timestamp_token: c.timestampToken,
      signing_certificate: c.signingCertificate,
    };
  }
}

/** A checkpoint as a process's evidence shows it: with the leaf its inclusion proof is for. */
export class ProcessCheckpointDto extends CheckpointDto {
  @ApiProperty({ description: "The leaf index, in the tenant's tree, of the process's latest event this checkpoint covers" }) leaf_index: number;
  @ApiProperty({ description: 'The seq of that event' }) seq: number;
}

export class ListCheckpointsQueryDto extends PageQueryDto {}

export class CheckpointParamsDto {
  @ApiProperty({ description: 'The tree_size of one of your checkpoints' })
  @ToInt()
  @IsInt({ message: 'tree_size must be a whole number' })
  @Min(1, { message: 'tree_size must be at least 1' })
  @Max(Number.MAX_SAFE_INTEGER)
  tree_size: number;
}

export class ConsistencyQueryDto {
  @ApiProperty({ description: 'The size of the earlier tree (1 … tree_size), usually an earlier checkpoint you hold' })
  @ToInt()
  @IsInt({ message: 'from must be a whole number' })
  @Min(1, { message: 'from must be at least 1' })
  @Max(Number.MAX_SAFE_INTEGER)
  from: number;
}

export class ConsistencyProofDto {
  @ApiProperty() from: number;
  @ApiProperty({ description: 'Hex root of the first `from` leaves' }) from_root_hash: string;
  @ApiProperty() tree_size: number;
  @ApiProperty({ description: "Hex root of the checkpoint's tree" }) root_hash: string;
  @ApiProperty({ type: [String], description: 'RFC 9162 §2.1.4 consistency proof, hex hashes' }) proof: string[];
}
