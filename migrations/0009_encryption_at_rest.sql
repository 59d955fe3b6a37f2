CREATE TABLE "data_keys" (
	"purpose" text NOT NULL,
	"version" integer NOT NULL,
	"wrapped" text NOT NULL,
	"kek_id" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "data_keys_purpose_version_pk" PRIMARY KEY("purpose","version"),
	CONSTRAINT "data_keys_version_positive" CHECK (version > 0)
);
--> statement-breakpoint
CREATE TABLE "key_rotations" (
	"target_version" integer PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"progress" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"rewritten" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX "persons_id_number_key";--> statement-breakpoint
ALTER TABLE "entities" ADD COLUMN "legal_rep_id_number_bidx" text;--> statement-breakpoint
ALTER TABLE "entities_history" ADD COLUMN "legal_rep_id_number_bidx" text;--> statement-breakpoint
ALTER TABLE "shareholdings" ADD COLUMN "shareholder_id_number_bidx" text;--> statement-breakpoint
ALTER TABLE "households" ADD COLUMN "address_bidx" text;--> statement-breakpoint
ALTER TABLE "persons" ADD COLUMN "id_number_bidx" text;--> statement-breakpoint
ALTER TABLE "persons" ADD COLUMN "hukou_address_bidx" text;--> statement-breakpoint
ALTER TABLE "persons" ADD COLUMN "residence_address_bidx" text;--> statement-breakpoint
ALTER TABLE "persons" ADD COLUMN "phone_bidx" text;--> statement-breakpoint
ALTER TABLE "persons_history" ADD COLUMN "id_number_bidx" text;--> statement-breakpoint
ALTER TABLE "persons_history" ADD COLUMN "hukou_address_bidx" text;--> statement-breakpoint
ALTER TABLE "persons_history" ADD COLUMN "residence_address_bidx" text;--> statement-breakpoint
ALTER TABLE "persons_history" ADD COLUMN "phone_bidx" text;--> statement-breakpoint
ALTER TABLE "residences" ADD COLUMN "address_bidx" text;--> statement-breakpoint
CREATE INDEX "entities_legal_rep_id_bidx_idx" ON "entities" USING btree ("legal_rep_id_number_bidx");--> statement-breakpoint
CREATE INDEX "shareholdings_holder_id_bidx_idx" ON "shareholdings" USING btree ("shareholder_id_number_bidx");--> statement-breakpoint
CREATE UNIQUE INDEX "persons_id_number_bidx_key" ON "persons" USING btree ("id_number_bidx");