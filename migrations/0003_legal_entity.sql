CREATE TABLE "change_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"registry" text NOT NULL,
	"record_type" text NOT NULL,
	"record_key" text NOT NULL,
	"action" text NOT NULL,
	"version" integer,
	"division_code" text,
	"changed_fields" text[],
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text,
	"batch" text
);
--> statement-breakpoint
CREATE TABLE "entities" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uscc" text NOT NULL,
	"uscc_status" text NOT NULL,
	"name" text NOT NULL,
	"registration_dept" text NOT NULL,
	"category" text NOT NULL,
	"legal_form" text NOT NULL,
	"legal_rep_person_id" bigint,
	"legal_rep_name" text,
	"legal_rep_id_number" text,
	"registered_capital" numeric(20, 2),
	"capital_currency" text DEFAULT 'CNY' NOT NULL,
	"established_on" date NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_date" date,
	"business_scope" text,
	"industry_code" text,
	"division_code" text NOT NULL,
	"address" text,
	"point" geometry(Point,4490),
	"registration_authority" text NOT NULL,
	"parent_entity_id" bigint,
	"parent_relation" text,
	"asset_band" text,
	"total_assets" numeric(20, 2),
	"annual_revenue" numeric(20, 2),
	"version" integer DEFAULT 1 NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "entities_history" (
	"id" bigint NOT NULL,
	"uscc" text NOT NULL,
	"uscc_status" text NOT NULL,
	"name" text NOT NULL,
	"registration_dept" text NOT NULL,
	"category" text NOT NULL,
	"legal_form" text NOT NULL,
	"legal_rep_person_id" bigint,
	"legal_rep_name" text,
	"legal_rep_id_number" text,
	"registered_capital" numeric(20, 2),
	"capital_currency" text DEFAULT 'CNY' NOT NULL,
	"established_on" date NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_date" date,
	"business_scope" text,
	"industry_code" text,
	"division_code" text NOT NULL,
	"address" text,
	"point" geometry(Point,4490),
	"registration_authority" text NOT NULL,
	"parent_entity_id" bigint,
	"parent_relation" text,
	"asset_band" text,
	"total_assets" numeric(20, 2),
	"annual_revenue" numeric(20, 2),
	"version" integer DEFAULT 1 NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text,
	"superseded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "entity_former_names" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entity_id" bigint NOT NULL,
	"name" text NOT NULL,
	"valid_from" date,
	"valid_to" date NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "online_shops" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"shop_name" text NOT NULL,
	"shop_url" text NOT NULL,
	"operator_kind" text NOT NULL,
	"operator_entity_id" bigint,
	"operator_person_id" bigint,
	"operator_name" text NOT NULL,
	"division_code" text NOT NULL,
	"status" text NOT NULL,
	"opened_on" date,
	"closed_on" date,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "qualifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entity_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"number" text NOT NULL,
	"type" text NOT NULL,
	"title" text,
	"status" text NOT NULL,
	"valid_from" date,
	"valid_to" date,
	"issuing_authority" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "shareholdings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entity_id" bigint NOT NULL,
	"shareholder_kind" text NOT NULL,
	"shareholder_person_id" bigint,
	"shareholder_entity_id" bigint,
	"shareholder_name" text NOT NULL,
	"shareholder_id_number" text,
	"subscribed_amount" numeric(20, 2),
	"currency" text DEFAULT 'CNY' NOT NULL,
	"percentage" numeric(9, 6) NOT NULL,
	"acquired_on" date NOT NULL,
	"ended_on" date,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text,
	CONSTRAINT "shareholdings_percentage_range" CHECK (percentage > 0 AND percentage <= 100),
	CONSTRAINT "shareholdings_holder_kind" CHECK ((shareholder_kind = 'entity') = (shareholder_entity_id IS NOT NULL)
          AND (shareholder_kind <> 'person' OR shareholder_entity_id IS NULL)
          AND (shareholder_kind = 'person' OR shareholder_person_id IS NULL))
);
--> statement-breakpoint
CREATE INDEX "change_log_record_idx" ON "change_log" USING btree ("record_type","record_key","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "entities_uscc_key" ON "entities" USING btree ("uscc");--> statement-breakpoint
CREATE INDEX "entities_division_idx" ON "entities" USING btree ("division_code","id");--> statement-breakpoint
CREATE INDEX "entities_industry_idx" ON "entities" USING btree ("industry_code");--> statement-breakpoint
CREATE INDEX "entities_established_idx" ON "entities" USING btree ("established_on");--> statement-breakpoint
CREATE INDEX "entities_legal_rep_idx" ON "entities" USING btree ("legal_rep_person_id");--> statement-breakpoint
CREATE INDEX "entities_parent_idx" ON "entities" USING btree ("parent_entity_id");--> statement-breakpoint
CREATE INDEX "entities_name_trgm" ON "entities" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "entities_point_gix" ON "entities" USING gist ("point");--> statement-breakpoint
CREATE INDEX "entities_history_id_idx" ON "entities_history" USING btree ("id","valid_from");--> statement-breakpoint
CREATE INDEX "entity_former_names_entity_idx" ON "entity_former_names" USING btree ("entity_id");--> statement-breakpoint
CREATE INDEX "entity_former_names_trgm" ON "entity_former_names" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "online_shops_url_key" ON "online_shops" USING btree ("platform","shop_url");--> statement-breakpoint
CREATE INDEX "online_shops_entity_idx" ON "online_shops" USING btree ("operator_entity_id");--> statement-breakpoint
CREATE INDEX "online_shops_person_idx" ON "online_shops" USING btree ("operator_person_id");--> statement-breakpoint
CREATE INDEX "online_shops_division_idx" ON "online_shops" USING btree ("division_code");--> statement-breakpoint
CREATE INDEX "qualifications_entity_idx" ON "qualifications" USING btree ("entity_id");--> statement-breakpoint
CREATE UNIQUE INDEX "qualifications_number_key" ON "qualifications" USING btree ("kind","number");--> statement-breakpoint
CREATE INDEX "shareholdings_entity_idx" ON "shareholdings" USING btree ("entity_id");--> statement-breakpoint
CREATE INDEX "shareholdings_holder_entity_idx" ON "shareholdings" USING btree ("shareholder_entity_id");--> statement-breakpoint
CREATE INDEX "shareholdings_holder_person_idx" ON "shareholdings" USING btree ("shareholder_person_id");