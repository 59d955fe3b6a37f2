-- Referential integrity across registries: a shareholding belongs to an existing entity, and a
-- shareholder that is a person or an entity exists in the population or legal-entity registry.
--
-- id: legal_entity.shareholdings.references
-- registry: legal-entity
-- dataset: legal_entity.shareholdings
-- dimension: consistency
-- severity: error
-- threshold: 0.001
-- description: A shareholding names an existing entity, and its person or entity shareholder exists
--    in the population or legal-entity registry
-- from: shareholdings s
-- division: (SELECT e.division_code FROM entities e WHERE e.id = s.entity_id)
SELECT s.id AS key, e.division_code,
       concat_ws('; ',
         CASE WHEN e.id IS NULL THEN 'entity ' || s.entity_id || ' does not exist' END,
         CASE WHEN s.shareholder_person_id IS NOT NULL AND p.id IS NULL
              THEN 'shareholder person ' || s.shareholder_person_id || ' is not in the population registry' END,
         CASE WHEN s.shareholder_entity_id IS NOT NULL AND h.id IS NULL
              THEN 'shareholder entity ' || s.shareholder_entity_id || ' does not exist' END) AS detail
  FROM shareholdings s
  LEFT JOIN entities e ON e.id = s.entity_id
  LEFT JOIN persons p ON p.id = s.shareholder_person_id
  LEFT JOIN entities h ON h.id = s.shareholder_entity_id
 WHERE e.id IS NULL
    OR (s.shareholder_person_id IS NOT NULL AND p.id IS NULL)
    OR (s.shareholder_entity_id IS NOT NULL AND h.id IS NULL)
